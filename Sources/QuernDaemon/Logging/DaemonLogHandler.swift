import Logging
import Synchronization

/// The log settings every logger of the process shares, so SIGHUP can
/// change the level, the format and the file of loggers already handed out.
public final class LogSettings: Sendable {
    private struct Live {
        var level: Logger.Level
        var format: LogFormat
    }

    private let live: Mutex<Live>
    public let output: LogOutput

    public init(level: Logger.Level, format: LogFormat, output: LogOutput) {
        live = Mutex(Live(level: level, format: format))
        self.output = output
    }

    public var level: Logger.Level { live.withLock { $0.level } }
    public var format: LogFormat { live.withLock { $0.format } }

    /// Applies a reloaded level and format (the file is `output.reopen`'s).
    public func update(level: Logger.Level, format: LogFormat) {
        live.withLock { $0 = Live(level: level, format: format) }
    }
}

/// Writes one line per event (logfmt or JSON, `LogLine`) through the
/// shared `LogSettings`.
public struct DaemonLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    private let settings: LogSettings
    /// A level set on one logger (`logger.logLevel = …`) instead of the shared one.
    private var ownLevel: Logger.Level?

    public init(settings: LogSettings) { self.settings = settings }

    public var logLevel: Logger.Level {
        get { ownLevel ?? settings.level }
        set { ownLevel = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        let output = settings.output
        output.write(LogLine.render(level: event.level, message: event.message.description, metadata: merged, format: settings.format,
                                    journal: output.isJournal))
    }
}
