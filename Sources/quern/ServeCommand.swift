import ArgumentParser
import Foundation
import QuernDaemon

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Watches the inbox and writes one JSON result per file to the outbox (foreground).",
        discussion: """
            Every option can also be set with the QUERN_* variable named in its help. \
            The work area and the archive default to <inbox>/.quern/work and <inbox>/.quern/archive/{done,failed} \
            and must be on the inbox's file system.

            Exit codes: 0 after SIGTERM/SIGINT; 75 when another quern already serves the inbox; \
            70 when a pipeline ignored cancellation after a timeout; 1 on set-up errors.
            """)

    @Option(name: .long, help: ArgumentHelp("Directory to watch (QUERN_INBOX, default ./inbox).", valueName: "dir"))
    var inbox: String?

    @Option(name: .long, help: ArgumentHelp("Where results go (QUERN_OUTBOX, default ./outbox).", valueName: "dir"))
    var outbox: String?

    @Option(name: .long, help: ArgumentHelp("Work area for claimed inputs (QUERN_WORK, default <inbox>/.quern/work).", valueName: "dir"))
    var work: String?

    @Option(name: .long, help: ArgumentHelp("Archive root holding done/ and failed/ (QUERN_ARCHIVE, default <inbox>/.quern/archive).", valueName: "dir"))
    var archive: String?

    @Option(name: .long, help: ArgumentHelp("Archive for inputs with an ok result (QUERN_DONE, default <archive>/done).", valueName: "dir"))
    var done: String?

    @Option(name: .long, help: ArgumentHelp("Archive for inputs with an error result (QUERN_FAILED, default <archive>/failed).", valueName: "dir"))
    var failed: String?

    @Flag(name: .long, help: "Poll the inbox instead of using inotify (QUERN_POLL=1); automatic on network file systems.")
    var poll = false

    @Option(name: .long, help: ArgumentHelp("Seconds between inbox listings when polling (QUERN_POLL_INTERVAL, default 0.5).", valueName: "s"))
    var pollInterval: Double?

    @Option(name: .long, help: ArgumentHelp("Seconds a file must stay unchanged before it is taken without a close event (QUERN_SETTLE, default 2).", valueName: "s"))
    var settle: Double?

    @Option(name: .long, help: ArgumentHelp("Seconds SIGTERM waits for a running inference (QUERN_SHUTDOWN_GRACE, default 10).", valueName: "s"))
    var shutdownGrace: Double?

    @Option(name: .long, help: ArgumentHelp("Crashes on one input before it gets an error result instead (QUERN_MAX_ATTEMPTS, default 3).", valueName: "n"))
    var maxAttempts: Int?

    @Option(name: .long, help: ArgumentHelp("Peak memory to stay under, e.g. 2G or 1500M (QUERN_MAX_MEMORY, default three quarters of the cgroup's or machine's memory); inputs wait their turn as files until what the models leave of it fits them.", valueName: "bytes"))
    var maxMemory: String?

    @Option(name: .long, help: ArgumentHelp("trace, debug, info, notice, warning, error or critical (QUERN_LOG_LEVEL, default info).", valueName: "level"))
    var logLevel: String?

    @OptionGroup var processing: ProcessingOptions
    @OptionGroup var compute: ComputeOptions

    func run() throws {
        let logger = try LogSetup.bootstrap(level: logLevel)
        let processor = try processing.processor()
        if !processing.useDiagnosticPipeline, !processor.registry.servedTasks.isEmpty {
            _ = try compute.prepare()
        }
        let inboxPath = inbox ?? Environment.string("QUERN_INBOX") ?? "./inbox"
        let archiveRoot = archive ?? Environment.string("QUERN_ARCHIVE")
        let layout = DaemonLayout(
            inbox: inboxPath,
            outbox: outbox ?? Environment.string("QUERN_OUTBOX") ?? "./outbox",
            work: work ?? Environment.string("QUERN_WORK"),
            done: done ?? Environment.string("QUERN_DONE") ?? archiveRoot.map { $0 + "/done" },
            failed: failed ?? Environment.string("QUERN_FAILED") ?? archiveRoot.map { $0 + "/failed" })
        var configuration = DaemonConfiguration(layout: layout)
        configuration.watchMode = poll || Environment.flag("QUERN_POLL") ? .polling : .automatic
        if let value = try pollInterval ?? Environment.number("QUERN_POLL_INTERVAL", Double.self) {
            guard value > 0 else { throw ValidationError("--poll-interval must be positive") }
            configuration.pollInterval = value
        }
        if let value = try settle ?? Environment.number("QUERN_SETTLE", Double.self) {
            guard value >= 0 else { throw ValidationError("--settle must not be negative") }
            configuration.settle = value
        }
        if let value = try shutdownGrace ?? Environment.number("QUERN_SHUTDOWN_GRACE", Double.self) {
            guard value >= 0 else { throw ValidationError("--shutdown-grace must not be negative") }
            configuration.shutdownGrace = .milliseconds(Int64(value * 1000))
        }
        if let value = try maxAttempts ?? Environment.number("QUERN_MAX_ATTEMPTS") {
            guard value >= 1 else { throw ValidationError("--max-attempts must be at least 1") }
            configuration.maxAttempts = value
        }
        configuration.timeout = processor.timeout
        if let text = maxMemory ?? Environment.string("QUERN_MAX_MEMORY") {
            guard let bytes = Self.byteCount(text), bytes > 0 else {
                throw ValidationError("--max-memory \(text) is not a size (bytes, or a number with K, M or G)")
            }
            configuration.maxMemory = bytes
        }

        for (task, reason) in processor.registry.unavailableTasks {
            logger.warning("task unavailable; its files get an unsupported error", metadata: ["task": "\(task.rawValue)", "reason": "\(reason)"])
        }
        let daemon = Daemon(configuration: configuration, processor: processor, logger: logger)
        let signals = SignalHandling.install(stopping: daemon)
        switch Result(catching: { () throws(Daemon.StartFailure) in try daemon.run() }) {
        case let .success(code):
            withExtendedLifetime(signals) {}
            Self.leave(code)
        case let .failure(failure):
            logger.critical("cannot start", metadata: ["error": "\(failure)"])
            throw ExitCode(failure.exitCode)
        }
    }

    /// "1500000000", "1500M", "2G" (binary multiples), or nil.
    static func byteCount(_ text: String) -> Int? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let multipliers: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        var digits = Substring(trimmed)
        var multiplier = 1
        if let last = digits.last?.uppercased().first, let value = multipliers[last] {
            multiplier = value
            digits = digits.dropLast()
        }
        if digits.last == "i" || digits.last == "B" { return nil }
        guard let number = Double(digits), number.isFinite, number >= 0, number * Double(multiplier) < Double(Int.max / 2) else { return nil }
        return Int(number * Double(multiplier))
    }

    /// Ends the process without exit()'s teardown: a pipeline abandoned after
    /// the shutdown grace may still be computing on another thread, and the
    /// libraries' destructors (OpenBLAS frees its buffers) would pull memory
    /// out from under it — a SIGSEGV instead of the documented exit code.
    /// Every result is durable and every unfinished input handed back by now;
    /// log lines are written unbuffered.
    private static func leave(_ code: Int32) -> Never {
        fflush(stdout)
        _exit(code)
    }
}
