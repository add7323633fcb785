/// Wraps the chat/completion pipeline so that a plain-text file
/// (`Job.embedsText`, set by the inspector; never for `.json` requests)
/// also gets the sentence embedding of its text in the same result, under
/// `result.embedding` with the embedding model's name. The answer itself
/// comes from the wrapped pipeline unchanged.
public struct EmbeddingAttachingPipeline<Base: Pipeline, Embedder: Pipeline>: Pipeline {
    public struct Prepared: Sendable {
        let base: Base.Prepared
        let text: Embedder.Prepared?
    }

    let base: Base
    /// The pipeline serving `embed` (the embedding model, lazily loaded in the daemon).
    let embedding: Embedder

    public init(base: Base, embedding: Embedder) {
        self.base = base
        self.embedding = embedding
    }

    public var identity: ModelIdentity { base.identity }
    public var tasks: Set<TaskName> { base.tasks }
    public var maxBatchSize: Int { base.maxBatchSize }

    public func prepare(_ job: Job) throws(QuernError) -> Prepared {
        let prepared = try base.prepare(job)
        guard job.embedsText, let text = Self.text(of: job.request) else { return Prepared(base: prepared, text: nil) }
        return Prepared(base: prepared, text: try embedding.prepare(Job(request: .embed(inputs: [text]))))
    }

    public func run(_ batch: [Prepared], context: PipelineContext) async throws(QuernError) -> [Result<TaskOutput, QuernError>] {
        var results = try await base.run(batch.map(\.base), context: context)
        let wanted = batch.indices.compactMap { index in batch[index].text.map { (index, $0) } }
        guard !wanted.isEmpty, results.count == batch.count else { return results }
        let embedded = try await embedding.run(wanted.map(\.1), context: context)
        for ((index, _), outcome) in zip(wanted, embedded) {
            switch (results[index], outcome) {
            case let (.success(answer), .success(.embedding(vectors))):
                results[index] = .success(attach(AttachedEmbedding(model: embedding.identity, output: vectors), to: answer))
            case (.success, let .failure(error)):
                results[index] = .failure(error)
            default:
                break
            }
        }
        return results
    }

    private func attach(_ attached: AttachedEmbedding, to answer: TaskOutput) -> TaskOutput {
        switch answer {
        case var .chat(output):
            output.textEmbedding = attached
            return .chat(output)
        case var .completion(output):
            output.textEmbedding = attached
            return .completion(output)
        default:
            return answer
        }
    }

    /// The text a plain-text file's job carries.
    static func text(of request: TaskRequest) -> String? {
        switch request {
        case let .chat(messages, _): return messages.count == 1 ? messages[0].content : nil
        case let .complete(prompt, _): return prompt
        default: return nil
        }
    }
}
