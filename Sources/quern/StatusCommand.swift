import ArgumentParser
import Foundation
import QuernDaemon
import QuernJSON

/// `quern status`: what a running `quern serve` is doing, from the status
/// file it rewrites every second (no socket, nothing to connect to).
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Shows what quern serve is doing: models, running jobs with progress, queues, files done and failed.",
        discussion: """
            Reads the status file the daemon rewrites about once a second \
            (<inbox>/.quern/status.json unless quern serve was given --status-file). \
            Exit codes: 0 when the daemon is running, 3 when it is not (no file, or \
            its pid is gone), 1 when the file cannot be read.
            """)

    @Option(name: .customLong(DaemonOptions.inbox.name), help: "The inbox quern serve watches (default: \(DaemonOptions.inbox.defaultText), or QUERN_INBOX).")
    var inbox: String?

    @Option(name: .customLong(DaemonOptions.statusFile.name), help: "The status file, when quern serve was given --status-file (or QUERN_STATUS_FILE).")
    var statusFile: String?

    @Flag(help: "Print the status file's JSON, with \"running\" added.")
    var json = false

    func run() throws {
        let sources = OptionSources([DaemonOptions.inbox.name: inbox, DaemonOptions.statusFile.name: statusFile])
        let inboxPath = try DaemonOptions.inbox.resolve(sources)
        let path = try DaemonOptions.statusFile.resolve(sources) ?? DaemonConfiguration.defaultStatusFile(inbox: inboxPath)
        let report: StatusReport
        do {
            report = try StatusReport.read(path: path)
        } catch {
            if case .missing = error {
                if json {
                    print(String(decoding: JSONWriter.bytes(.object([("running", .bool(false)), ("error", .string(error.description))]), style: .pretty), as: UTF8.self))
                } else {
                    print("quern: not running (\(error.description))")
                }
                throw ExitCode(3)
            }
            FileHandle.standardError.write(Data("quern status: \(error.description)\n".utf8))
            throw ExitCode(1)
        }
        if json {
            print(String(decoding: JSONWriter.bytes(report.document, style: .pretty), as: UTF8.self))
        } else {
            print(report.text, terminator: "")
        }
        if !report.isRunning { throw ExitCode(3) }
    }
}
