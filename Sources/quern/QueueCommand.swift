import ArgumentParser
import Foundation
import QuernDaemon
import QuernQueue

/// `quern queue …`: the shared job queue in PostgreSQL (docs/scale-out.md).
struct QueueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "Sets up and inspects the job queue several workers share (quern serve --queue).",
        subcommands: [Init.self, Status.self, Retry.self, Cancel.self])

    /// Where the queue is: the same options as `quern serve`.
    struct Connection: ParsableArguments {
        @Option(name: .customLong(DaemonOptions.queue.name), help: "The queue's postgres:// URL (or QUERN_QUEUE).")
        var queue: String?

        @Option(name: .customLong(DaemonOptions.queuePasswordFile.name), help: "File holding the password (or QUERN_QUEUE_PASSWORD_FILE; else PGPASSFILE or ~/.pgpass).")
        var queuePasswordFile: String?

        func admin() throws -> QueueAdmin {
            let environment = ProcessInfo.processInfo.environment
            guard let text = queue ?? environment["QUERN_QUEUE"] else {
                throw ValidationError("give the queue with --queue postgres://… (or QUERN_QUEUE)")
            }
            do {
                return try QueueAdmin(location: try QueueLocation(text), passwordFile: queuePasswordFile ?? environment["QUERN_QUEUE_PASSWORD_FILE"])
            } catch {
                throw ValidationError(error.description)
            }
        }
    }

    static func fail(_ command: String, _ error: any Error) -> ExitCode {
        FileHandle.standardError.write(Data("quern queue \(command): \(error)\n".utf8))
        return ExitCode(1)
    }

    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Creates the queue's tables, or migrates them to this quern's schema (safe to run again, and from several nodes at once).")
        @OptionGroup var connection: Connection

        func run() throws {
            let admin = try connection.admin()
            do {
                let applied = try admin.with { queue in try await queue.migrate() }
                print(applied.isEmpty ? "the queue is at schema version \(QueueSchema.latestVersion); nothing to do"
                    : "applied schema version\(applied.count == 1 ? "" : "s") \(applied.map(String.init).joined(separator: ", "))")
            } catch {
                throw QueueCommand.fail("init", error)
            }
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Shows the jobs by state and kind, the oldest waiting job and the recent rate.")
        @OptionGroup var connection: Connection

        func run() throws {
            let admin = try connection.admin()
            do {
                print(QueueAdmin.render(try admin.with { queue in try await queue.report() }))
            } catch {
                throw QueueCommand.fail("status", error)
            }
        }
    }

    struct Retry: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Queues a failed or cancelled job again, its attempts reset.")
        @Argument(help: "The job's id (the number a result's name starts with).") var id: Int64
        @OptionGroup var connection: Connection

        func run() throws {
            let admin = try connection.admin()
            let id = id
            let done: Bool
            do { done = try admin.with { queue in try await queue.retry(id: id) } } catch { throw QueueCommand.fail("retry", error) }
            guard done else { throw QueueCommand.fail("retry", QueueCommandFailure("no failed or cancelled job \(id)")) }
            print("job \(id) is queued again")
        }
    }

    struct Cancel: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cancels a queued or running job; a running one stops at its worker's next lease renewal, without a result.")
        @Argument(help: "The job's id.") var id: Int64
        @OptionGroup var connection: Connection

        func run() throws {
            let admin = try connection.admin()
            let id = id
            let done: Bool
            do { done = try admin.with { queue in try await queue.cancel(id: id) } } catch { throw QueueCommand.fail("cancel", error) }
            guard done else { throw QueueCommand.fail("cancel", QueueCommandFailure("no queued or running job \(id)")) }
            print("job \(id) is cancelled")
        }
    }
}

/// A refusal `quern queue` prints.
struct QueueCommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
