import QuernPipelines
import QuernQueue

/// Listens to what the daemon does. The status file, the Prometheus
/// metrics and the systemd notifier are observers; none of them is known to
/// the engine, which only calls `observe` at the points listed in
/// `DaemonEvent`. Calls come from the daemon's own threads (intake, lanes,
/// writers, the main loop) and must return quickly: take a lock, update a
/// counter, never block on I/O that can stall (the systemd datagram is a
/// non-blocking send).
public protocol DaemonObserver: Sendable {
    func observe(_ event: DaemonEvent)
}

/// Everything the engine reports, in the order it happens for one file:
/// `jobQueued` → `jobStarted` → `jobProgress`… → `jobFinished`.
public enum DaemonEvent: Sendable {
    /// The inbox is watched and the models are loaded or loadable on first
    /// use (`--preload`: loaded): systemd's READY=1, `/ready`.
    case ready
    /// About once a second from the daemon's main loop, while every stage
    /// thread is alive: systemd's WATCHDOG=1 and STATUS= are sent from here.
    case heartbeat(DaemonStatus)
    /// A claimed, inspected input entered the queue of a model's lane.
    case jobQueued(JobReport)
    /// The lane began preparing the input (decoding, tokenizing).
    case jobStarted(JobReport)
    /// Work longer than a few seconds reports what it has done, at least
    /// every 5 s (tokens generated, audio seconds, batch i of n).
    case jobProgress(JobReport, JobProgress)
    /// The result is durable in the outbox (or the claim was handed back,
    /// `FinishedJob.status == .handedBack`).
    case jobFinished(FinishedJob)
    case modelLoaded(ModelLoadReport)
    case modelUnloaded(name: String)
    /// SIGHUP: the configuration was read again (`error` when it was refused
    /// and the previous one stays in force).
    case reloaded(error: String?)
    /// SIGTERM/SIGINT or a fatal condition: systemd's STOPPING=1.
    case stopping(reason: String)
    /// The shared queue (`--queue`): what this node did with it, and the
    /// depth it read.
    case queue(QueueEvent)
}

/// What a node reports about the shared queue (docs/scale-out.md).
public enum QueueEvent: Sendable {
    /// Inputs of this node's inbox turned into jobs.
    case fed(Int)
    /// Jobs leased; `retried`: of them, the ones on a second or later attempt.
    case claimed(Int, retried: Int)
    /// Job ends recorded (done or failed) by this worker.
    case finished(Int)
    /// Leases this worker lost before the job ended (reaped or cancelled).
    case leasesLost(Int)
    /// Expired leases this node's reaper returned to the queue.
    case reaped(Int)
    /// Leases given back at a graceful stop.
    case released(Int)
    /// The queue's waiting and running jobs, read every few seconds.
    case depth(QueueReport)
}

/// One input on its way through a lane.
public struct JobReport: Sendable {
    /// The claim id: unique per input for the daemon's lifetime.
    public var claimID: String
    /// The input's name in the inbox, for people (may hold any bytes).
    public var name: String
    public var kind: InputKind
    public var task: TaskName?
    /// The model's name as `quern models list` prints it; nil before routing.
    public var model: String?
    /// The lane: one per loaded model (its name), or "intake" for inputs
    /// decided without a model.
    public var lane: String
    /// Seconds from when the file was seen to this report.
    public var waitedSeconds: Double

    public init(claimID: String, name: String, kind: InputKind, task: TaskName?, model: String?, lane: String, waitedSeconds: Double) {
        self.claimID = claimID
        self.name = name
        self.kind = kind
        self.task = task
        self.model = model
        self.lane = lane
        self.waitedSeconds = waitedSeconds
    }
}

/// How a finished job ended, as counted by the metrics (a bounded set).
public enum JobStatus: String, Sendable, CaseIterable {
    case ok
    case error
    case timeout
    case cancelled
    /// Not finished: shutdown handed the input back to the inbox.
    case handedBack = "handed_back"
}

/// What `jobFinished` carries: the job, its outcome and where the time went.
public struct FinishedJob: Sendable {
    public var job: JobReport
    public var status: JobStatus
    /// The error code of a failed result (`ErrorCode.rawValue`), else nil.
    public var errorCode: String?
    /// Seconds per stage: reading and hashing the file, decoding/preparing,
    /// the model, writing the result durably. A stage that did not run is 0.
    public var readSeconds: Double
    public var decodeSeconds: Double
    public var inferenceSeconds: Double
    public var writeSeconds: Double
    /// Seconds from seen to the start of work (the queue wait).
    public var queuedSeconds: Double
    /// Tokens a language model generated for this job (0 for other tasks).
    public var generatedTokens: Int
    /// Seconds of audio transcribed (0 for other tasks).
    public var audioSeconds: Double

    public init(job: JobReport, status: JobStatus, errorCode: String? = nil, readSeconds: Double = 0, decodeSeconds: Double = 0,
                inferenceSeconds: Double = 0, writeSeconds: Double = 0, queuedSeconds: Double = 0, generatedTokens: Int = 0, audioSeconds: Double = 0) {
        self.job = job
        self.status = status
        self.errorCode = errorCode
        self.readSeconds = readSeconds
        self.decodeSeconds = decodeSeconds
        self.inferenceSeconds = inferenceSeconds
        self.writeSeconds = writeSeconds
        self.queuedSeconds = queuedSeconds
        self.generatedTokens = generatedTokens
        self.audioSeconds = audioSeconds
    }
}

/// A model that finished loading.
public struct ModelLoadReport: Sendable {
    public var name: String
    public var seconds: Double
    /// Bytes of its weight files (what it adds to the resident size, about).
    public var weightBytes: Int

    public init(name: String, seconds: Double, weightBytes: Int) {
        self.name = name
        self.seconds = seconds
        self.weightBytes = weightBytes
    }
}

/// Fans one event out to several observers.
public struct DaemonObservers: DaemonObserver {
    public var observers: [any DaemonObserver]

    public init(_ observers: [any DaemonObserver] = []) { self.observers = observers }

    public func observe(_ event: DaemonEvent) {
        for observer in observers { observer.observe(event) }
    }
}
