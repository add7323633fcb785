/// Everything `quern serve` can be told. The defaults are the documented
/// ones: `DaemonOptions` shows these constants in help and docs/daemon.md.
public struct DaemonConfiguration: Sendable {
    public enum WatchMode: String, Sendable {
        /// inotify, unless the inbox is on a network file system or inotify fails.
        case automatic
        case polling
    }

    public static let defaultPollInterval = 0.5
    public static let defaultSettle = 2.0
    public static let defaultTimeoutSeconds = 300.0
    public static let defaultShutdownGraceSeconds = 10.0
    public static let defaultMaxAttempts = 3

    public var layout: DaemonLayout
    public var watchMode: WatchMode = .automatic
    /// Seconds between inbox listings in polling mode.
    public var pollInterval: Double = defaultPollInterval
    /// Seconds an entry's size and mtime must stay the same before it is taken
    /// when no close event says it is complete.
    public var settle: Double = defaultSettle
    /// Per-batch model time limit.
    public var timeout: Duration = .seconds(defaultTimeoutSeconds)
    /// How long SIGTERM waits for the running inference before handing it back.
    public var shutdownGrace: Duration = .seconds(defaultShutdownGraceSeconds)
    /// Crashes while processing one input before it gets an error result instead.
    public var maxAttempts: Int = defaultMaxAttempts
    /// Threads that claim, read and inspect files (I/O and hashing).
    public var intakeThreads: Int = 2
    /// Threads that write results (each waits on fsync; several let the file
    /// system commit them together).
    public var writerThreads: Int = 3
    /// Depth of each queue between stages: what bounds memory in a burst.
    public var queueCapacity: Int = 32
    /// Peak memory the daemon aims to stay under, in bytes; what the loaded
    /// models leave of it is the budget inputs are admitted against. nil:
    /// three quarters of the cgroup's or the machine's memory.
    public var maxMemory: Int?
    /// What the archive and the outbox keep (default: everything, forever).
    public var retention = RetentionPolicy()
    /// The shared queue several workers take jobs from (`--queue`); nil:
    /// this daemon serves its own inbox only.
    public var queue: QueueSettings?
    /// Where the status `quern status` reads is kept (`StatusFile`).
    public var statusFile: String

    /// `<inbox>/.quern/status.json`, the status file's default place.
    public static func defaultStatusFile(inbox: String) -> String {
        var trimmed = inbox
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed.removeLast() }
        return trimmed + "/.quern/status.json"
    }

    public init(layout: DaemonLayout) {
        self.layout = layout
        statusFile = Self.defaultStatusFile(inbox: String(decoding: layout.inbox, as: UTF8.self))
    }
}
