import ArgumentParser
import Foundation
import Logging
import QuernDaemon
import QuernHTTP
import QuernTensor

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Watches the inbox and writes one JSON result per file to the outbox (foreground).",
        discussion: """
            Every option can also be set with the QUERN_* variable named in its help, or as a key in the \
            configuration file (--config; keys are the flags' names): the command line wins over the environment, \
            which wins over the file. SIGHUP reads the configuration again and re-opens the log file; \
            `quern config` shows every value and where it came from. \
            The work area and the archive default to <inbox>/.quern/work and <inbox>/.quern/archive/{done,failed} \
            and must be on the inbox's file system.

            Exit codes: 0 after SIGTERM/SIGINT; 75 when another quern already serves the inbox; \
            70 when a pipeline ignored cancellation after a timeout; 69 when the CPU lacks an extension the binary \
            was built for; 1 on set-up errors (a --metrics-listen address that cannot be bound among them).
            """)

    private typealias O = DaemonOptions

    @Option(name: .customLong(O.inbox.name), help: ArgumentHelp(O.inbox))
    var inbox: String?

    @Option(name: .customLong(O.outbox.name), help: ArgumentHelp(O.outbox))
    var outbox: String?

    @Option(name: .customLong(O.work.name), help: ArgumentHelp(O.work))
    var work: String?

    @Option(name: .customLong(O.archive.name), help: ArgumentHelp(O.archive))
    var archive: String?

    @Option(name: .customLong(O.done.name), help: ArgumentHelp(O.done))
    var done: String?

    @Option(name: .customLong(O.failed.name), help: ArgumentHelp(O.failed))
    var failed: String?

    @Option(name: .customLong(O.statusFile.name), help: ArgumentHelp(O.statusFile))
    var statusFile: String?

    @Flag(name: .customLong(O.poll.name), help: ArgumentHelp(O.poll))
    var poll = false

    @Option(name: .customLong(O.pollInterval.name), help: ArgumentHelp(O.pollInterval))
    var pollInterval: String?

    @Option(name: .customLong(O.settle.name), help: ArgumentHelp(O.settle))
    var settle: String?

    @Option(name: .customLong(O.shutdownGrace.name), help: ArgumentHelp(O.shutdownGrace))
    var shutdownGrace: String?

    @Option(name: .customLong(O.maxAttempts.name), help: ArgumentHelp(O.maxAttempts))
    var maxAttempts: String?

    @Option(name: .customLong(O.maxMemory.name), help: ArgumentHelp(O.maxMemory))
    var maxMemory: String?

    @Flag(name: .customLong(O.preload.name), help: ArgumentHelp(O.preload))
    var preload = false

    @Option(name: .customLong(O.modelIdleUnload.name), help: ArgumentHelp(O.modelIdleUnload))
    var modelIdleUnload: String?

    @Option(name: .customLong(O.keepInputs.name), help: ArgumentHelp(O.keepInputs))
    var keepInputs: String?

    @Option(name: .customLong(O.keepInputsDays.name), help: ArgumentHelp(O.keepInputsDays))
    var keepInputsDays: String?

    @Option(name: .customLong(O.keepInputsSize.name), help: ArgumentHelp(O.keepInputsSize))
    var keepInputsSize: String?

    @Option(name: .customLong(O.keepResultsDays.name), help: ArgumentHelp(O.keepResultsDays))
    var keepResultsDays: String?

    @Option(name: .customLong(O.keepResultsSize.name), help: ArgumentHelp(O.keepResultsSize))
    var keepResultsSize: String?

    @Option(name: .customLong(O.retentionInterval.name), help: ArgumentHelp(O.retentionInterval))
    var retentionInterval: String?

    @Option(name: .customLong(O.metricsListen.name), help: ArgumentHelp(O.metricsListen))
    var metricsListen: String?

    @Option(name: .customLong(O.queue.name), help: ArgumentHelp(O.queue))
    var queue: String?

    @Option(name: .customLong(O.queuePasswordFile.name), help: ArgumentHelp(O.queuePasswordFile))
    var queuePasswordFile: String?

    @Option(name: .customLong(O.shared.name), help: ArgumentHelp(O.shared))
    var shared: String?

    @Option(name: .customLong(O.queueLease.name), help: ArgumentHelp(O.queueLease))
    var queueLease: String?

    @Option(name: .customLong(O.queuePrefetch.name), help: ArgumentHelp(O.queuePrefetch))
    var queuePrefetch: String?

    @Flag(name: .customLong(O.queueFeedOnly.name), help: ArgumentHelp(O.queueFeedOnly))
    var queueFeedOnly = false

    @Option(name: .customLong(O.httpListen.name), help: ArgumentHelp(O.httpListen))
    var httpListen: String?

    @Option(name: .customLong(O.apiKeyFile.name), help: ArgumentHelp(O.apiKeyFile))
    var apiKeyFile: String?

    @Option(name: .customLong(O.transcriptFiles.name), help: ArgumentHelp(O.transcriptFiles))
    var transcriptFiles: String?

    @OptionGroup var processing: ProcessingOptions
    @OptionGroup var compute: ComputeOptions

    private var commandLine: [String: String?] {
        [
            O.inbox.name: inbox, O.outbox.name: outbox, O.work.name: work, O.archive.name: archive, O.done.name: done,
            O.failed.name: failed, O.statusFile.name: statusFile, O.poll.name: poll ? "true" : nil, O.pollInterval.name: pollInterval, O.settle.name: settle,
            O.shutdownGrace.name: shutdownGrace, O.maxAttempts.name: maxAttempts, O.maxMemory.name: maxMemory,
            O.preload.name: preload ? "true" : nil, O.modelIdleUnload.name: modelIdleUnload,
            O.keepInputs.name: keepInputs, O.keepInputsDays.name: keepInputsDays, O.keepInputsSize.name: keepInputsSize,
            O.keepResultsDays.name: keepResultsDays, O.keepResultsSize.name: keepResultsSize, O.retentionInterval.name: retentionInterval,
            O.metricsListen.name: metricsListen, O.httpListen.name: httpListen, O.apiKeyFile.name: apiKeyFile,
            O.transcriptFiles.name: transcriptFiles, O.queue.name: queue, O.queuePasswordFile.name: queuePasswordFile,
            O.shared.name: shared, O.queueLease.name: queueLease, O.queuePrefetch.name: queuePrefetch, O.queueFeedOnly.name: queueFeedOnly ? "true" : nil,
        ]
    }

    func run() throws {
        // Before any other thread allocates: one malloc arena, so that the
        // heap trims after a batch and after an unload return everything.
        Heap.limitArenas(to: 1, unlessSetIn: ProcessInfo.processInfo.environment)
        // Before anything slow: a SIGHUP while the models load must not kill the process.
        let signals = SignalHandling()
        // Every option is checked before anything is loaded.
        let commandLine = OptionSources.merged([self.commandLine, processing.commandLine, compute.commandLine])
        let environment = ProcessInfo.processInfo.environment
        let sources = try ConfigurationLoader.sources(commandLine: commandLine, environment: environment)
        var settings = try ProcessingSettings(sources)
        let configuration = try DaemonConfiguration(sources, timeout: settings.timeout)
        if settings.conversationsDirectory == nil {
            settings.conversationsDirectory = ProcessingSettings.defaultConversationsDirectory(inbox: try O.inbox.resolve(sources))
        }
        let metricsAddress = try O.metricsListen.resolve(sources)
        let httpAddress = try O.httpListen.resolve(sources)
        if let httpAddress, httpAddress == metricsAddress {
            throw ValidationError("\(O.httpListen.flag) and \(O.metricsListen.flag) name the same address; give \(O.httpListen.flag) alone (it serves /metrics, /health and /ready too)")
        }
        let apiKey = try O.apiKeyFile.resolve(sources).map { try Self.readAPIKey($0) }
        let logSettings = try LogSetup.settings(sources)
        let logger = LogSetup.bootstrap(logSettings)
        if let file = sources.file {
            logger.info("configuration file read", metadata: ["path": "\(file.path)", "keys": "\(file.entries.count)"])
        }
        // Listening starts before the models load, so /health answers and
        // /ready says 503 while they do; a port in use stops start-up here.
        let metrics = metricsAddress != nil || httpAddress != nil ? DaemonMetrics(version: QuernVersion.string) : nil
        let monitoring = try metricsAddress.map { try Self.startMonitoring(on: $0, metrics: metrics!, logger: logger) }
        // The API's routes are added once the daemon exists; until it serves,
        // they answer 503.
        let api = try httpAddress.map { try Self.startAPIServer(on: $0, metrics: metrics!, authenticated: apiKey != nil, logger: logger) }
        let processor = try processing.processor(settings, check: (.checksums, true))
        if !settings.diagnostic, !processor.registry.servedTasks.isEmpty {
            _ = try compute.prepare(sources)
        }
        for (task, reason) in processor.registry.unavailableTasks {
            logger.warning("task unavailable; its files get an unsupported error", metadata: ["task": "\(task.rawValue)", "reason": "\(reason)"])
        }
        let statusFile = StatusFile(path: configuration.statusFile) { message in
            logger.warning("status file not written; quern status cannot see this daemon", metadata: ["error": "\(message)"])
        }
        let notifier = SystemdNotifier(environment: environment, logger: logger)
        let observers = DaemonObservers([statusFile] + [notifier].compactMap { $0 } + (metrics.map { [$0] } ?? []))
        let daemon = Daemon(configuration: configuration, processor: processor, logger: logger, observer: observers)
        metrics?.setStatusProvider { daemon.status() }
        if let api {
            OpenAIAPI(daemon: daemon, apiKey: apiKey, maxBytes: processor.inspector.limits.maxBytes).register(on: api.router)
        }
        let reloader = ConfigurationReloader(sources: sources, commandLine: commandLine, environment: environment, log: logSettings,
                                             daemon: daemon, observer: observers, notifier: notifier, logger: logger)
        signals.attach(SignalHandling.Actions(
            stop: { daemon.requestStop(exitCode: 0, reason: $0) },
            reload: { reloader.reload() },
            reopenLog: { reloader.reopenLog() }))
        switch Result(catching: { () throws(Daemon.StartFailure) in try daemon.run() }) {
        case let .success(code):
            withExtendedLifetime(signals) {}
            withExtendedLifetime(monitoring) {}
            withExtendedLifetime(api) {}
            statusFile.markStopped(daemon.status())
            Self.leave(code)
        case let .failure(failure):
            logger.critical("cannot start", metadata: ["error": "\(failure)"])
            throw ExitCode(failure.exitCode)
        }
    }

    /// An HTTP server that is serving, and its routes (more may be added).
    private struct RunningServer {
        let router: HTTPRouter
        let server: HTTPServer
    }

    /// --metrics-listen: /metrics, /health and /ready.
    private static func startMonitoring(on address: ListenAddress, metrics: DaemonMetrics, logger: Logger) throws -> RunningServer {
        let running = try startServer(on: address, metrics: metrics, purpose: "the metrics (\(DaemonOptions.metricsListen.flag))", logger: logger)
        logger.notice("monitoring", metadata: [
            "metrics_listen": "\(running.server.boundAddress)", "paths": "\(MonitoringEndpoints.paths.joined(separator: ","))",
        ])
        return running
    }

    /// --http-listen: the monitoring routes at once, the API's once the daemon exists.
    private static func startAPIServer(on address: ListenAddress, metrics: DaemonMetrics, authenticated: Bool, logger: Logger) throws -> RunningServer {
        let running = try startServer(on: address, metrics: metrics, purpose: "the HTTP API (\(DaemonOptions.httpListen.flag))", logger: logger)
        logger.notice("http api", metadata: [
            "http_listen": "\(running.server.boundAddress)", "paths": "\((OpenAIAPI.paths + MonitoringEndpoints.paths).joined(separator: ","))",
            "authentication": "\(authenticated ? "bearer token" : "none")",
        ])
        if !authenticated, !address.isLoopback {
            logger.warning("the HTTP API listens beyond this machine without an API key: anyone who can reach it can use the models (set --api-key-file)",
                           metadata: ["http_listen": "\(running.server.boundAddress)"])
        }
        return running
    }

    /// A server with the monitoring routes; an address that cannot be bound stops start-up (exit 1).
    private static func startServer(on address: ListenAddress, metrics: DaemonMetrics, purpose: String, logger: Logger) throws -> RunningServer {
        let router = HTTPRouter()
        MonitoringEndpoints.register(on: router, metrics: metrics)
        switch Result(catching: { () throws(HTTPServerError) in try HTTPServer.start(address: address, router: router, purpose: purpose) }) {
        case let .success(server):
            return RunningServer(router: router, server: server)
        case let .failure(failure):
            logger.critical("cannot start", metadata: ["error": "\(failure)", "code": "\(failure.code)"])
            throw ExitCode(1)
        }
    }

    /// The bearer token in --api-key-file: its first line, trimmed.
    private static func readAPIKey(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("\(DaemonOptions.apiKeyFile.flag): cannot read \(path)")
        }
        let key = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        guard !key.isEmpty else { throw ValidationError("\(DaemonOptions.apiKeyFile.flag): \(path) is empty; put the API key on its first line") }
        return key
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
