import Foundation
import Logging
import QuernDaemon

enum LogSetup {
    /// The log level, format and file of `sources` (`--log-level`,
    /// `--log-format`, `--log-file` and their variables and keys), with the
    /// file opened; SIGHUP changes them through the same object.
    static func settings(_ sources: OptionSources) throws -> LogSettings {
        let output = try LogOutput(path: try DaemonOptions.logFile.resolve(sources), environment: ProcessInfo.processInfo.environment)
        return LogSettings(level: try DaemonOptions.logLevel.resolve(sources), format: try DaemonOptions.logFormat.resolve(sources), output: output)
    }

    /// Every logger of the process writes through `settings`.
    static func bootstrap(_ settings: LogSettings) -> Logger {
        LoggingSystem.bootstrap { _ in DaemonLogHandler(settings: settings) }
        return Logger(label: "quern")
    }
}
