import ArgumentParser
import Foundation
import QuernDaemon

/// `quern cancel NAME`: stops a queued or running job. It leaves a `.cancel`
/// marker in the job's claim in the work area; the daemon notices within a
/// second and writes a `cancelled` result (keeping the partial output).
struct CancelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancels a queued or running job by its input's name (or its claim id).",
        discussion: """
            The job gets a result with status "cancelled" (error code cancelled) that keeps \
            what the model produced so far; its input is archived in failed/. Works without \
            a connection to the daemon: it marks the claim in the work area (<inbox>/.quern/work \
            unless quern serve was given --work). A file still waiting in the inbox is not \
            claimed yet: take it back from the inbox instead. \
            Exit codes: 0 when a job was marked, 1 when none matched or the work area cannot be read.
            """)

    @Argument(help: "The input's file name as it was dropped in the inbox, or a claim id (a result's claim_id).")
    var name: String

    @Option(name: .customLong(DaemonOptions.inbox.name), help: "The inbox quern serve watches (default: \(DaemonOptions.inbox.defaultText), or QUERN_INBOX).")
    var inbox: String?

    @Option(name: .customLong(DaemonOptions.work.name), help: "The work area, when quern serve was given --work (or QUERN_WORK).")
    var work: String?

    func run() throws {
        let sources = OptionSources([DaemonOptions.inbox.name: inbox, DaemonOptions.work.name: work])
        let inboxPath = try DaemonOptions.inbox.resolve(sources)
        let layout = DaemonLayout(inbox: inboxPath, outbox: inboxPath, work: try DaemonOptions.work.resolve(sources), done: nil, failed: nil)
        let workPath = String(decoding: layout.work, as: UTF8.self)
        let marked: [CancelRequest.Marked]
        do {
            marked = try CancelRequest.mark(name: name, work: workPath)
        } catch {
            FileHandle.standardError.write(Data("quern cancel: \(error.description)\n".utf8))
            throw ExitCode(1)
        }
        guard !marked.isEmpty else {
            var message = "quern cancel: no queued or running job named \(name) in \(workPath)"
            if FileManager.default.fileExists(atPath: inboxPath + "/" + name) {
                message += "; it is still waiting in the inbox, not claimed yet: move it out of the inbox to withdraw it"
            } else {
                message += " (already finished? its result is in the outbox)"
            }
            FileHandle.standardError.write(Data((message + "\n").utf8))
            throw ExitCode(1)
        }
        for job in marked {
            print("cancelling \(job.name) (claim \(job.claimID)); its result will say \"cancelled\"")
        }
    }
}
