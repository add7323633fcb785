/// A model that loads on its first job and may be unloaded when idle
/// (`ModelResidency`), transparent to the engine: its identity (name, the
/// weights' sha256 from the model's manifest), tasks and batch size are
/// known without loading it, so jobs are routed, batched and named before
/// the weights are read.
public struct LazyPipeline: Pipeline {
    public struct Prepared: Sendable {
        let inner: any Sendable
        /// Keeps the model loaded until the batch has run.
        let lease: ModelLease
    }

    let slot: ModelSlot
    let residency: ModelResidency

    init(slot: ModelSlot, residency: ModelResidency) {
        self.slot = slot
        self.residency = residency
    }

    public var identity: ModelIdentity { slot.identity }
    public var tasks: Set<TaskName> { slot.tasks }
    public var maxBatchSize: Int { slot.maxBatchSize }

    public func prepare(_ job: Job) throws(QuernError) -> Prepared {
        let job = try resolvingModelName(job)
        let lease = try residency.acquire(slot)
        return Prepared(inner: try lease.pipeline.prepare(job), lease: lease)
    }

    /// Loads once for the whole batch, then prepares as the model would
    /// (side by side for images).
    public func prepareBatch(_ jobs: [Job]) -> [(result: Result<Prepared, QuernError>, seconds: Double)] {
        let clock = ContinuousClock()
        let start = clock.now
        let lease: ModelLease
        switch Result(catching: { () throws(QuernError) in try residency.acquire(slot) }) {
        case let .success(acquired): lease = acquired
        case let .failure(error):
            let seconds = ModelResidency.seconds(clock.now - start) / Double(max(1, jobs.count))
            return jobs.map { _ in (.failure(error), seconds) }
        }
        // The load is part of the first job's decode time.
        let loadSeconds = ModelResidency.seconds(clock.now - start)
        let resolved = jobs.map { job in Result { () throws(QuernError) in try resolvingModelName(job) } }
        let valid = jobs.indices.filter { if case .success = resolved[$0] { return true } else { return false } }
        let prepared = lease.pipeline.prepareBatch(valid.compactMap { try? resolved[$0].get() })
        var outcomes: [(result: Result<Prepared, QuernError>, seconds: Double)] = resolved.map { outcome in
            switch outcome {
            case let .failure(error): return (.failure(error), 0)
            case .success: return (.failure(QuernError(.internalError, "\(identity.name) did not prepare this input")), 0)
            }
        }
        for (index, outcome) in zip(valid, prepared) {
            outcomes[index] = (outcome.result.map { Prepared(inner: $0, lease: lease) }, outcome.seconds)
        }
        if !outcomes.isEmpty { outcomes[0].seconds += loadSeconds }
        return outcomes
    }

    public func run(_ batch: [Prepared], context: PipelineContext) async throws(QuernError) -> [Result<TaskOutput, QuernError>] {
        guard let lease = batch.first?.lease else { return [] }
        return await lease.pipeline.run(batch.map(\.inner), context: context)
    }

    /// The loaded model itself (loading it if needed) and the lease that
    /// keeps it loaded while the caller holds it (`train`'s feature extractors).
    func loaded() throws(QuernError) -> ModelLease { try residency.acquire(slot) }

    /// A request may name the model by any name it answers to; the loaded
    /// pipeline only knows its own, so the name is checked here and dropped.
    private func resolvingModelName(_ job: Job) throws(QuernError) -> Job {
        guard let requested = job.model else { return job }
        guard identity.answers(to: requested) else {
            throw QuernError(.requestInvalidValue, "model \"\(requested)\" is not loaded (this daemon serves \"\(identity.name)\" here)")
        }
        var resolved = job
        resolved.model = nil
        return resolved
    }
}
