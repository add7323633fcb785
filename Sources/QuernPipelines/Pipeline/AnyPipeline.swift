/// A type-erased pipeline, so the registry can hold pipelines whose prepared
/// inputs differ (pixels, mel frames, token ids).
public struct AnyPipeline: Sendable {
    public let identity: ModelIdentity
    public let tasks: Set<TaskName>
    public let maxBatchSize: Int
    private let prepareJob: @Sendable (Job) throws(QuernError) -> any Sendable
    private let runBatch: @Sendable ([any Sendable], PipelineContext) async throws(QuernError) -> [Result<TaskOutput, QuernError>]

    public init<P: Pipeline>(_ pipeline: P) {
        identity = pipeline.identity
        tasks = pipeline.tasks
        maxBatchSize = max(1, pipeline.maxBatchSize)
        prepareJob = { (job: Job) throws(QuernError) -> any Sendable in try pipeline.prepare(job) }
        runBatch = { (batch: [any Sendable], context: PipelineContext) async throws(QuernError) -> [Result<TaskOutput, QuernError>] in
            var typed: [P.Prepared] = []
            typed.reserveCapacity(batch.count)
            for item in batch {
                guard let prepared = item as? P.Prepared else {
                    throw QuernError(.internalError, "a prepared input reached the wrong pipeline")
                }
                typed.append(prepared)
            }
            return try await pipeline.run(typed, context: context)
        }
    }

    public func prepare(_ job: Job) throws(QuernError) -> any Sendable { try prepareJob(job) }

    /// Runs a batch and checks the pipeline kept its promise of one result per job.
    public func run(_ batch: [any Sendable], context: PipelineContext) async -> [Result<TaskOutput, QuernError>] {
        do throws(QuernError) {
            let results = try await runBatch(batch, context)
            guard results.count == batch.count else {
                let failure = QuernError(.pipelineFailed, "\(identity.name) returned \(results.count) results for \(batch.count) inputs")
                return Array(repeating: .failure(failure), count: batch.count)
            }
            return results
        } catch {
            return Array(repeating: .failure(error), count: batch.count)
        }
    }
}
