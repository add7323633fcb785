import Logging
import Synchronization

/// SIGHUP: reads the configuration file (and the environment) again and
/// applies what can change while the daemon runs — the log level, format and
/// file, the shutdown grace (`DaemonOptions`' `onReload: .applied`) — and
/// logs the changed options that need a restart. A configuration that
/// cannot be used (a syntax error, an unknown key, a bad value, a log file
/// that cannot be opened) is logged and refused whole: the previous one stays.
/// The log file is re-opened either way, as logrotate expects.
public final class ConfigurationReloader: Sendable {
    private let commandLine: [String: String?]
    private let environment: [String: String]
    private let defaultPath: String
    private let current: Mutex<OptionSources>
    private let log: LogSettings
    private let daemon: Daemon
    private let observer: any DaemonObserver
    private let notifier: SystemdNotifier?
    private let logger: Logger

    /// `sources` are the ones the daemon started with; `commandLine` and
    /// `environment` are read again with the file at each reload (the flags
    /// keep winning over it).
    public init(sources: OptionSources, commandLine: [String: String?], environment: [String: String],
                defaultPath: String = ConfigurationLoader.defaultPath, log: LogSettings, daemon: Daemon,
                observer: any DaemonObserver, notifier: SystemdNotifier?, logger: Logger) {
        current = Mutex(sources)
        self.commandLine = commandLine
        self.environment = environment
        self.defaultPath = defaultPath
        self.log = log
        self.daemon = daemon
        self.observer = observer
        self.notifier = notifier
        self.logger = logger
    }

    /// The options in force (for tests and `quern status`-like reports).
    public var sources: OptionSources { current.withLock { $0 } }

    public func reload() {
        notifier?.reloading()
        let previous = sources
        do throws(ReloadError) {
            let (sources, live) = try read()
            do {
                try log.output.reopen(path: live.logFile)
            } catch {
                throw .logFile(error)
            }
            log.update(level: live.logLevel, format: live.logFormat)
            daemon.apply(reloaded: live.daemon)
            current.withLock { $0 = sources }
            report(changesFrom: previous, to: sources)
            observer.observe(.reloaded(error: nil))
        } catch {
            // The log file in use is re-opened all the same (logrotate moved it).
            reopenLog()
            logger.error("configuration not reloaded; the previous one stays in force", metadata: [
                "error": "\(error)", "code": "\(error.code)",
            ])
            observer.observe(.reloaded(error: error.description))
        }
    }

    /// SIGUSR1: the log file is opened again by name (after logrotate moved it).
    public func reopenLog() {
        guard let path = log.output.path else { return }
        do {
            try log.output.reopen(path: path)
        } catch {
            logger.error("cannot re-open the log file; logging to the previous one", metadata: ["error": "\(error)"])
        }
    }

    /// What a reload applies, read and checked before anything changes.
    private struct Live {
        var logLevel: Logger.Level
        var logFormat: LogFormat
        var logFile: String?
        var daemon: ReloadableSettings
    }

    private func read() throws(ReloadError) -> (OptionSources, Live) {
        let sources: OptionSources
        do {
            sources = try ConfigurationLoader.sources(commandLine: commandLine, environment: environment, defaultPath: defaultPath)
        } catch {
            throw .configuration(error)
        }
        do {
            // Every serve option, also those that need a restart: a value
            // the next start would refuse is refused now.
            for option in DaemonOptions.all where option.commands.contains(.serve) {
                try option.validate(sources)
            }
            let live = Live(
                logLevel: try DaemonOptions.logLevel.resolve(sources), logFormat: try DaemonOptions.logFormat.resolve(sources),
                logFile: try DaemonOptions.logFile.resolve(sources),
                daemon: ReloadableSettings(shutdownGrace: ProcessingSettings.duration(seconds: try DaemonOptions.shutdownGrace.resolve(sources))))
            return (sources, live)
        } catch {
            throw .configuration(.option(error))
        }
    }

    private func report(changesFrom previous: OptionSources, to sources: OptionSources) {
        var applied: [String] = []
        var needsRestart: [String] = []
        for option in DaemonOptions.all where option.commands.contains(.serve) && option.isFileKey {
            guard option.effectiveText(in: previous) != option.effectiveText(in: sources) else { continue }
            switch option.onReload {
            case .applied: applied.append(option.name)
            case .restart: needsRestart.append(option.name)
            }
        }
        logger.notice("configuration reloaded", metadata: [
            "file": "\(sources.file?.path ?? "none")",
            "applied": "\(applied.isEmpty ? "none" : applied.joined(separator: ","))",
        ])
        if !needsRestart.isEmpty {
            logger.warning("changed options need a restart to take effect; the running daemon keeps their previous values", metadata: [
                "options": "\(needsRestart.joined(separator: ","))",
            ])
        }
    }
}

/// Why a reload was refused.
enum ReloadError: Error, CustomStringConvertible {
    case configuration(ConfigurationError)
    case logFile(LogFileError)

    var description: String {
        switch self {
        case let .configuration(error): return error.description
        case let .logFile(error): return error.description
        }
    }

    var code: String {
        switch self {
        case let .configuration(error): return error.code
        case let .logFile(error): return error.code
        }
    }
}
