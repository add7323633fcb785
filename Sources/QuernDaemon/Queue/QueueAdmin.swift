import Foundation
import Logging
import QuernQueue

/// `quern queue init/status/retry/cancel`: one connection, one statement
/// (or the migrations), for an operator at a terminal.
public struct QueueAdmin: Sendable {
    let location: QueueLocation
    let password: String?

    public init(location: QueueLocation, passwordFile: String?) throws(QueueError) {
        self.location = location
        password = try QueuePassword.resolve(file: passwordFile, for: location)
    }

    /// Runs `body` on a connected queue; errors name the server.
    public func with<Value: Sendable>(_ body: @escaping @Sendable (JobQueue) async throws -> Value) throws -> Value {
        try location.checkReachable()
        var logger = Logger(label: "quern-queue")
        logger.logLevel = .critical
        let client = location.makeClient(password: password, logger: logger)
        let running = Task { await client.run() }
        defer { running.cancel() }
        let queue = JobQueue(client: client, logger: logger)
        do {
            return try BlockingCall.run(seconds: 20) { try await body(queue) }
        } catch let error as QueueError {
            throw error
        } catch {
            throw QueueError(.unreachable, "\(location): \(String(reflecting: error))")
        }
    }

    /// `quern queue status`: counts by state and kind, the oldest waiting
    /// job, and jobs ended in the last minute.
    public static func render(_ report: QueueReport) -> String {
        var lines: [String] = []
        let states = ["queued", "running", "done", "failed", "cancelled"]
        let kinds = Array(Set(report.counts.map(\.kind))).sorted()
        let header = ["state"] + kinds + ["all"]
        var rows: [[String]] = [header]
        for state in states {
            let counts = kinds.map { kind in report.counts.first { $0.state == state && $0.kind == kind }?.count ?? 0 }
            rows.append([state] + counts.map(String.init) + [String(report.total(state: state))])
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            lines.append(row.enumerated().map { column, text in
                column == 0 ? text.padding(toLength: widths[0], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[column] - text.count) + text
            }.joined(separator: "  "))
        }
        lines.append("")
        lines.append("oldest waiting job: " + (report.oldestWaitingSeconds.map { String(format: "%.1f s", $0) } ?? "none waiting"))
        lines.append("ended in the last minute: \(report.finishedLastMinute) (\(String(format: "%.1f", Double(report.finishedLastMinute) / 60)) jobs/s)")
        lines.append("jobs that needed more than one attempt: \(report.jobsRetried)")
        return lines.joined(separator: "\n")
    }
}
