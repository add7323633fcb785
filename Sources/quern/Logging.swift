import Logging
import QuernDaemon

enum LogSetup {
    /// logfmt lines on stderr at `level` (`--log-level`/QUERN_LOG_LEVEL, read through `DaemonOptions`).
    static func bootstrap(level: Logger.Level) -> Logger {
        LoggingSystem.bootstrap { label in
            var handler = LogfmtHandler(label: label)
            handler.logLevel = level
            return handler
        }
        return Logger(label: "quern")
    }
}
