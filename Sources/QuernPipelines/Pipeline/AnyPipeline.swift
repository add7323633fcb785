/// A type-erased pipeline, so the registry can hold pipelines whose prepared
/// inputs differ (pixels, mel frames, token ids).
public struct AnyPipeline: Sendable {
    public let identity: ModelIdentity
    public let tasks: Set<TaskName>
    public let maxBatchSize: Int
    /// The daemon lane its jobs run on (`Pipeline.lane`).
    public let lane: String
    private let prepareJob: @Sendable (Job) throws(QuernError) -> any Sendable
    private let prepareJobs: @Sendable ([Job]) -> [(result: Result<any Sendable, QuernError>, seconds: Double)]
    private let runBatch: @Sendable ([any Sendable], PipelineContext) async throws(QuernError) -> [Result<TaskOutput, QuernError>]

    public init<P: Pipeline>(_ pipeline: P) {
        identity = pipeline.identity
        tasks = pipeline.tasks
        maxBatchSize = max(1, pipeline.maxBatchSize)
        lane = pipeline.lane
        prepareJob = { (job: Job) throws(QuernError) -> any Sendable in try pipeline.prepare(job) }
        prepareJobs = { jobs in pipeline.prepareBatch(jobs).map { ($0.result.map { $0 as any Sendable }, $0.seconds) } }
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

    /// Every job of a batch prepared (possibly side by side), with the seconds each took.
    public func prepareBatch(_ jobs: [Job]) -> [(result: Result<any Sendable, QuernError>, seconds: Double)] {
        let prepared = prepareJobs(jobs)
        guard prepared.count == jobs.count else {
            let failure = QuernError(.pipelineFailed, "\(identity.name) prepared \(prepared.count) inputs for \(jobs.count) jobs")
            return Array(repeating: (.failure(failure), 0), count: jobs.count)
        }
        return prepared
    }

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
