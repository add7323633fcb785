import QuernJSON
import QuernTensor
import Synchronization

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
    /// What the model's products run in, for models that offer the choice
    /// (embed, classify, transcribe); nil for the others. Results report it.
    public var precision: Precision?

    public init(name: String, weightsSHA256: String?, aliases: [String] = [], precision: Precision? = nil) {
        self.name = name
        self.weightsSHA256 = weightsSHA256
        self.aliases = aliases
        self.precision = precision
    }

    /// The name, marked with the precision when it is not float32
    /// (`open-nsfw@bfloat16`): how logs, `quern status` and metrics tell
    /// the two loaded forms of one model apart.
    public var displayName: String {
        guard let precision, precision != .float32 else { return name }
        return name + "@" + precision.rawValue
    }

    /// The `model` member of a result: name, sha256 and, where the model
    /// offers the choice, the precision that ran.
    public var json: JSONValue {
        var members: [(key: String, value: JSONValue)] = [("name", .string(name)), ("sha256", .optional(weightsSHA256))]
        if let precision { members.append(("precision", .string(precision.rawValue))) }
        return .object(members)
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
    /// Where progress and partial output go; the daemon's lane reads it
    /// while it waits for the batch (progress log lines, `quern status`, the
    /// partial output a `timeout` or `cancelled` result keeps).
    public var monitor: JobMonitor
    /// The monitor's slot for each input of this batch (a retry of one input
    /// alone reports into that input's slot of the original batch).
    public var slots: [Int]

    /// When this batch started and its last checkpoint, for `LongJobPacing`.
    let pacing = LongJobPacing()

    public init(deadline: ContinuousClock.Instant, monitor: JobMonitor = JobMonitor(), slots: [Int]? = nil) {
        self.deadline = deadline
        self.monitor = monitor
        self.slots = slots ?? []
    }

    /// Long loops (token generation, encoder layers) call this between steps:
    /// after a timeout or at shutdown the task is cancelled, and the compute
    /// lane is only free for the next file once the pipeline has returned.
    /// A batch running for longer than `LongJobPacing.longJob` may also pause
    /// here while other lanes' work fills every core.
    public func checkCancellation() throws(QuernError) {
        if Task.isCancelled { throw QuernError(.cancelled, "the job was cancelled") }
        if pacing.pace() && Task.isCancelled { throw QuernError(.cancelled, "the job was cancelled") }
    }

    /// Where a long loop that checks cancellation coarsely (a transcription,
    /// window by window) lets shorter work have the cores (`LongJobPacing`).
    public func pace() { pacing.pace() }

    /// How far input `index` of the batch has come (cheap: call it per token).
    public func report(_ index: Int, _ progress: JobProgress) {
        monitor.report(slot(index), progress)
    }

    /// What input `index` has produced so far; a result that ends in a
    /// timeout or a cancellation keeps the latest one as `partial`.
    public func recordPartial(_ index: Int, _ output: TaskOutput) {
        monitor.recordPartial(slot(index), output)
    }

    private func slot(_ index: Int) -> Int { index < slots.count ? slots[index] : index }
}

/// Lets a long job (a 5-minute recording) give way to short ones: the
/// daemon's promise is that one long transcription does not hold up a chat,
/// an embedding or an image. Once a batch has run for `longJob`, at each
/// checkpoint it stands aside (`ComputeThreads.standAside`) while other
/// lanes' work already fills every core, for at most `yieldFactor` times
/// the time it computed since its previous checkpoint: it keeps at least a
/// fifth of its pace however busy the others are, and all of it when they
/// are idle.
final class LongJobPacing: Sendable {
    static let longJob: Duration = .seconds(5)
    static let yieldFactor = 4
    static let longestPause: Duration = .milliseconds(500)

    private let clock = ContinuousClock()
    private let start: ContinuousClock.Instant
    private let lastCheckpoint: Mutex<ContinuousClock.Instant>

    init() {
        start = clock.now
        lastCheckpoint = Mutex(start)
    }

    /// Whether it paused.
    @discardableResult
    func pace() -> Bool {
        let now = clock.now
        let computed = lastCheckpoint.withLock { last in
            defer { last = now }
            return now - last
        }
        guard now - start >= Self.longJob else { return false }
        let paused = ComputeThreads.standAside(upTo: min(computed * Self.yieldFactor, Self.longestPause))
        if paused { lastCheckpoint.withLock { $0 = clock.now } }
        return paused
    }
}

/// Progress and partial output of the inputs of one batch, written by the
/// pipeline's task and read by the lane's thread.
public final class JobMonitor: Sendable {
    private struct Slot {
        var progress: JobProgress?
        var partial: TaskOutput?
        var listener: (@Sendable (TaskOutput) -> Void)?
    }

    private let slots = Mutex<[Int: Slot]>([:])

    public init() {}

    public func report(_ slot: Int, _ progress: JobProgress) {
        slots.withLock { $0[slot, default: Slot()].progress = progress }
    }

    public func recordPartial(_ slot: Int, _ output: TaskOutput) {
        let listener = slots.withLock { slots -> (@Sendable (TaskOutput) -> Void)? in
            slots[slot, default: Slot()].partial = output
            return slots[slot]?.listener
        }
        listener?(output)
    }

    /// Calls `listener` with every partial output of `slot` as it is
    /// recorded (on the pipeline's thread: it must return quickly), e.g. to
    /// stream a reply to an HTTP client.
    public func listen(_ slot: Int, _ listener: @escaping @Sendable (TaskOutput) -> Void) {
        slots.withLock { $0[slot, default: Slot()].listener = listener }
    }

    public func progress(_ slot: Int) -> JobProgress? { slots.withLock { $0[slot]?.progress } }

    public func partial(_ slot: Int) -> TaskOutput? { slots.withLock { $0[slot]?.partial } }
}

/// A model that serves one or more tasks. The daemon loads it once and keeps
/// it, and runs its batches one at a time on its own lane; other models'
/// lanes may run at the same time, and the tensor core then shares the
/// compute threads between them (`ComputeThreads.laneStarted`), so a
/// pipeline simply uses `parallelFor` and BLAS as if it had every core.
///
/// Two phases, both run on the model's lane: `prepare` turns a validated job
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
    /// The daemon's lane (queue and worker thread) this pipeline's jobs run
    /// on: by default one per model, its name.
    var lane: String { get }

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
    public var lane: String { identity.name }

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
