/// The model behind a result: its name and the SHA-256 of its weights file,
/// so a result can be traced to the exact bytes that produced it.
public struct ModelIdentity: Sendable, Equatable {
    public var name: String
    /// nil only for pipelines without weights (the diagnostic one).
    public var weightsSHA256: String?
    /// Other names a request's `model` field may use for it: what earlier
    /// versions of Quern called it (the GGUF file's name,
    /// `SmolLM2-135M-Instruct.Q4_1`), so old requests keep working.
    public var aliases: [String]

    public init(name: String, weightsSHA256: String?, aliases: [String] = []) {
        self.name = name
        self.weightsSHA256 = weightsSHA256
        self.aliases = aliases
    }

    /// Whether a request naming `requested` asks for this model: its name or
    /// an alias, in any letter case (`quern models list` prints lowercase names).
    public func answers(to requested: String) -> Bool {
        let wanted = requested.lowercased()
        return name.lowercased() == wanted || aliases.contains { $0.lowercased() == wanted }
    }
}

/// What a pipeline may consult while it runs.
public struct PipelineContext: Sendable {
    /// When the daemon will give up on this batch and write `timeout` results.
    public var deadline: ContinuousClock.Instant

    public init(deadline: ContinuousClock.Instant) { self.deadline = deadline }

    /// Long loops (token generation, encoder layers) call this between steps:
    /// after a timeout or at shutdown the task is cancelled, and the compute
    /// lane is only free for the next file once the pipeline has returned.
    public func checkCancellation() throws(QuernError) {
        if Task.isCancelled { throw QuernError(.cancelled, "the job was cancelled") }
    }
}

/// A model that serves one or more tasks. The daemon loads it once and keeps
/// it; it runs one batch at a time (never two pipelines at once), so a
/// pipeline may use every compute thread.
///
/// Two phases, both run on the compute lane: `prepare` turns a validated job
/// into model input (decode PNG pixels, resample audio, tokenize) and is
/// reported as decode time; `run` is the model itself, reported as inference.
public protocol Pipeline: Sendable {
    associatedtype Prepared: Sendable

    var identity: ModelIdentity { get }
    /// The tasks this pipeline answers; the registry routes them here.
    var tasks: Set<TaskName> { get }
    /// Largest batch `run` accepts. Queued jobs of the same pipeline are
    /// grouped up to this size; 1 disables batching.
    var maxBatchSize: Int { get }

    func prepare(_ job: Job) throws(QuernError) -> Prepared
    /// Prepares the jobs of one batch, each with the seconds it took. The
    /// default prepares them one after another; a pipeline whose preparation
    /// is heavy and single-threaded (PNG decoding) prepares them side by side
    /// on the compute threads.
    func prepareBatch(_ jobs: [Job]) -> [(result: Result<Prepared, QuernError>, seconds: Double)]
    /// One result per prepared job, in order. Throwing fails the whole batch.
    func run(_ batch: [Prepared], context: PipelineContext) async throws(QuernError) -> [Result<TaskOutput, QuernError>]
}

extension Pipeline {
    public var maxBatchSize: Int { 1 }

    public func prepareBatch(_ jobs: [Job]) -> [(result: Result<Prepared, QuernError>, seconds: Double)] {
        jobs.map(timedPrepare)
    }

    /// `prepare` with its duration, for `prepareBatch`.
    public func timedPrepare(_ job: Job) -> (result: Result<Prepared, QuernError>, seconds: Double) {
        let clock = ContinuousClock()
        let start = clock.now
        let result = Result { () throws(QuernError) in try prepare(job) }
        let (whole, fraction) = (clock.now - start).components
        return (result, Double(whole) + Double(fraction) / 1e18)
    }
}

extension Pipeline where Prepared == Job {
    public func prepare(_ job: Job) throws(QuernError) -> Job { job }
}
