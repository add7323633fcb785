import ArgumentParser
import Logging
import QuernDaemon

enum LogSetup {
    /// logfmt lines on stderr, at QUERN_LOG_LEVEL or `level` (default info).
    static func bootstrap(level: String?) throws -> Logger {
        let text = level ?? Environment.string("QUERN_LOG_LEVEL") ?? "info"
        guard let parsed = Logger.Level(rawValue: text) else {
            throw ValidationError("unknown log level \(text) (trace, debug, info, notice, warning, error, critical)")
        }
        LoggingSystem.bootstrap { label in
            var handler = LogfmtHandler(label: label)
            handler.logLevel = parsed
            return handler
        }
        return Logger(label: "quern")
    }
}
