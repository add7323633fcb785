import QuernLearning

/// Wraps a pipeline whose answers carry vectors of one kind (image
/// features, the audio embedding, sentence embeddings) so that the
/// installed heads of that kind run on them and their verdicts join the
/// answer under `heads`. The answer itself comes from the wrapped pipeline
/// unchanged; the result's model stays the wrapped one's.
///
/// The heads a job runs are chosen when the batch is prepared — the
/// library's state at that moment, so a head installed meanwhile joins the
/// next batch — and each head then runs once over the stacked vectors of
/// the whole batch (one GEMM per layer), not once per file.
public struct HeadAttachingPipeline<Base: Pipeline>: Pipeline {
    public struct Prepared: Sendable {
        let base: Base.Prepared
        let heads: [InstalledHead]
    }

    let base: Base
    let library: HeadLibrary
    let kind: FeatureKind

    public init(base: Base, library: HeadLibrary, kind: FeatureKind) {
        self.base = base
        self.library = library
        self.kind = kind
    }

    public var identity: ModelIdentity { base.identity }
    public var tasks: Set<TaskName> { base.tasks }
    public var maxBatchSize: Int { base.maxBatchSize }

    public func prepare(_ job: Job) throws(QuernError) -> Prepared {
        let heads = try library.current().select(job.heads, kind: kind)
        return Prepared(base: try base.prepare(job), heads: heads)
    }

    /// The library is looked at once for the whole batch; a job naming a
    /// head that is not installed fails alone, before its input is decoded.
    public func prepareBatch(_ jobs: [Job]) -> [(result: Result<Prepared, QuernError>, seconds: Double)] {
        let snapshot = library.current()
        let selections = jobs.map { job in Result { () throws(QuernError) in try snapshot.select(job.heads, kind: kind) } }
        let valid = jobs.indices.filter { if case .success = selections[$0] { return true } else { return false } }
        let prepared = base.prepareBatch(valid.map { jobs[$0] })
        var outcomes: [(result: Result<Prepared, QuernError>, seconds: Double)] = selections.map { selection in
            switch selection {
            case let .failure(error): return (.failure(error), 0)
            case .success: return (.failure(QuernError(.internalError, "\(identity.name) did not prepare this input")), 0)
            }
        }
        for (index, outcome) in zip(valid, prepared) {
            guard case let .success(heads) = selections[index] else { continue }
            outcomes[index] = (outcome.result.map { Prepared(base: $0, heads: heads) }, outcome.seconds)
        }
        return outcomes
    }

    public func run(_ batch: [Prepared], context: PipelineContext) async throws(QuernError) -> [Result<TaskOutput, QuernError>] {
        let results = try await base.run(batch.map(\.base), context: context)
        guard results.count == batch.count else { return results }
        try context.checkCancellation()
        return HeadRunner.attach(to: results, heads: batch.map(\.heads))
    }
}

/// Runs the heads of a batch and puts their verdicts into the answers.
enum HeadRunner {
    /// `heads[i]` are the heads chosen for `results[i]`, in name order.
    static func attach(to results: [Result<TaskOutput, QuernError>], heads: [[InstalledHead]]) -> [Result<TaskOutput, QuernError>] {
        let features: [[[Float]]?] = zip(results, heads).map { result, chosen in
            guard !chosen.isEmpty, case let .success(output) = result else { return nil }
            return output.headFeatures
        }
        // Every (answer, vector) each head reads, so that each head runs once.
        var work: [ObjectIdentifier: (head: InstalledHead, items: [(result: Int, vector: Int)])] = [:]
        for (index, vectors) in features.enumerated() {
            guard let vectors else { continue }
            for head in heads[index] {
                work[ObjectIdentifier(head), default: (head: head, items: [])].items += vectors.indices.map { (result: index, vector: $0) }
            }
        }
        var verdicts: [[[(name: String, outcome: HeadOutputs.Outcome)]]] = features.map { vectors in (vectors ?? []).map { _ in [] } }
        for (head, items) in work.values.sorted(by: { $0.head.name < $1.head.name }) {
            let outcomes = head.predict(items.map { item in features[item.result]?[item.vector] ?? [] })
            for (item, outcome) in zip(items, outcomes) { verdicts[item.result][item.vector].append((head.name, outcome)) }
        }
        return results.indices.map { index in
            guard features[index] != nil, case let .success(output) = results[index] else { return results[index] }
            return .success(output.withHeads(verdicts[index].map { entries in HeadOutputs(entries.sorted { $0.name < $1.name }) }))
        }
    }
}

extension TaskOutput {
    /// The vectors heads read from this answer, one per input (an `embed`
    /// request's texts, else one); nil when it carries none (a chat request,
    /// which has no embedding of its own).
    var headFeatures: [[Float]]? {
        switch self {
        case let .classification(output): return [output.features]
        case let .transcription(output): return output.embedding.map { [$0] }
        case let .embedding(output): return output.vectors
        case let .chat(output): return output.textEmbedding?.output.vectors.first.map { [$0] }
        case let .completion(output): return output.textEmbedding?.output.vectors.first.map { [$0] }
        case .diagnostic, .training, .forgotten: return nil
        }
    }

    /// The answer with the heads' verdicts, one per vector of `headFeatures`.
    func withHeads(_ verdicts: [HeadOutputs]) -> TaskOutput {
        switch self {
        case var .classification(output):
            output.heads = verdicts.first
            return .classification(output)
        case var .transcription(output):
            output.heads = verdicts.first
            return .transcription(output)
        case var .embedding(output):
            output.heads = verdicts
            return .embedding(output)
        case var .chat(output):
            output.heads = verdicts.first
            return .chat(output)
        case var .completion(output):
            output.heads = verdicts.first
            return .completion(output)
        case .diagnostic, .training, .forgotten:
            return self
        }
    }
}
