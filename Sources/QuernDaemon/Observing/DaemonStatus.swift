import QuernPipelines

/// What the daemon is doing right now: what `quern status` prints, what the
/// status file holds, what systemd's STATUS= line and the metrics' gauges
/// are made of. A value, taken under the engine's locks in one go.
public struct DaemonStatus: Sendable {
    public var pid: Int32
    public var version: String
    /// Wall-clock start, seconds since 1970.
    public var startedAt: Double
    /// Wall-clock time of this snapshot, seconds since 1970.
    public var takenAt: Double
    /// `.ready` was reported: models loaded or loadable, inbox watched.
    public var ready: Bool
    public var models: [ModelStatus]
    public var lanes: [LaneStatus]
    public var running: [RunningJob]
    /// Results written since start, by outcome.
    public var filesDone: Int
    public var filesFailed: Int
    public var residentBytes: Int

    public init(pid: Int32, version: String, startedAt: Double, takenAt: Double, ready: Bool, models: [ModelStatus], lanes: [LaneStatus],
                running: [RunningJob], filesDone: Int, filesFailed: Int, residentBytes: Int) {
        self.pid = pid
        self.version = version
        self.startedAt = startedAt
        self.takenAt = takenAt
        self.ready = ready
        self.models = models
        self.lanes = lanes
        self.running = running
        self.filesDone = filesDone
        self.filesFailed = filesFailed
        self.residentBytes = residentBytes
    }

    /// Inputs waiting in every lane.
    public var queued: Int { lanes.reduce(0) { $0 + $1.queued } }
}

public struct ModelStatus: Sendable {
    /// As `quern models list` prints it.
    public var name: String
    public var tasks: [TaskName]
    public var loaded: Bool
    public var loadSeconds: Double?
    public var weightBytes: Int

    public init(name: String, tasks: [TaskName], loaded: Bool, loadSeconds: Double?, weightBytes: Int) {
        self.name = name
        self.tasks = tasks
        self.loaded = loaded
        self.loadSeconds = loadSeconds
        self.weightBytes = weightBytes
    }
}

public struct LaneStatus: Sendable {
    /// The model's name, or "intake".
    public var name: String
    public var queued: Int
    public var running: Int
    /// The input that has waited longest in this lane, and for how long.
    public var oldestWaitingName: String?
    public var oldestWaitingSeconds: Double?

    public init(name: String, queued: Int, running: Int, oldestWaitingName: String?, oldestWaitingSeconds: Double?) {
        self.name = name
        self.queued = queued
        self.running = running
        self.oldestWaitingName = oldestWaitingName
        self.oldestWaitingSeconds = oldestWaitingSeconds
    }
}

public struct RunningJob: Sendable {
    public var job: JobReport
    public var elapsedSeconds: Double
    /// The last progress the pipeline reported, if any.
    public var progress: JobProgress?

    public init(job: JobReport, elapsedSeconds: Double, progress: JobProgress?) {
        self.job = job
        self.elapsedSeconds = elapsedSeconds
        self.progress = progress
    }
}
