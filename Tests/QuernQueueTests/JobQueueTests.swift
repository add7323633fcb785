import Foundation
import Logging
import QuernQueue
import QuernTestSupport
import Testing

/// A throw-away PostgreSQL cluster (scripts/pg-cluster.sh): Debian's
/// server, a temporary folder, a Unix socket, no TCP port.
struct ThrowawayCluster {
    let folder: String
    let location: QueueLocation

    static func start() async throws -> ThrowawayCluster {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("quern-pg-\(UUID().uuidString.prefix(8))").path
        let (status, output) = try ChildProcess.run(TestPaths.inRepository("scripts/pg-cluster.sh"), ["start", folder])
        guard status == 0, let url = output.split(separator: "\n").last(where: { $0.hasPrefix("postgres://") }) else {
            throw ClusterFailure(output: output)
        }
        return ThrowawayCluster(folder: folder, location: try QueueLocation(String(url)))
    }

    func stop() async {
        _ = try? ChildProcess.run(TestPaths.inRepository("scripts/pg-cluster.sh"), ["stop", folder])
        try? FileManager.default.removeItem(atPath: folder)
    }
}

struct ClusterFailure: Error, CustomStringConvertible {
    var output: String
    var description: String { "the throw-away PostgreSQL cluster did not start: \(output)" }
}

@Suite(.serialized) struct JobQueueTests {
    static let logger = Logger(label: "quern-queue-test")

    /// Runs `body` with a migrated queue on a fresh cluster.
    private func withQueue(_ body: (JobQueue) async throws -> Void) async throws {
        let cluster = try await ThrowawayCluster.start()
        let client = cluster.location.makeClient(password: nil, logger: Self.logger)
        let running = Task { await client.run() }
        let queue = JobQueue(client: client, logger: Self.logger)
        var failure: (any Error)?
        do {
            #expect(try await queue.migrate() == [1])
            #expect(try await queue.migrate() == [], "a second init applies nothing")
            try await body(queue)
        } catch {
            failure = error
        }
        running.cancel()
        await cluster.stop()
        if let failure { throw failure }
    }

    @Test func locationsParseAsLibpqWritesThem() throws {
        let socket = try QueueLocation("postgres://quern@/jobs?host=/run/postgresql")
        #expect(socket.socketPath == "/run/postgresql/.s.PGSQL.5432")
        #expect(socket.database == "jobs")
        let remote = try QueueLocation("postgresql://quern@db.example:6543/quern?sslmode=verify-full")
        #expect(remote.endpoint == .tcp(host: "db.example", port: 6543))
        #expect(remote.tls == .require)
        #expect(throws: QueueError.self) { try QueueLocation("postgres://quern:secret@db/quern") }
        #expect(throws: QueueError.self) { try QueueLocation("mysql://db/quern") }
        #expect(throws: QueueError.self) { try QueueLocation("postgres://q@/quern?host=/run&sslmode=require") }
    }

    /// Two workers claiming at once get disjoint jobs, highest priority and
    /// oldest first; enqueueing under a used key gives the same job.
    @Test func concurrentClaimsNeverShareAJob() async throws {
        try await withQueue { queue in
            var ids: [Int64] = []
            for index in 0..<200 {
                ids.append(try await queue.enqueue(NewJob(key: "k\(index)", inputLocation: "/shared/in/\(index)", kind: index % 2 == 0 ? "text" : "image",
                                                          priority: index == 199 ? 5 : 0)))
            }
            #expect(try await queue.enqueue(NewJob(key: "k7", inputLocation: "/elsewhere", kind: "text")) == ids[7])
            async let first = queue.claim(owner: "a", kinds: ["text", "image"], limit: 60, leaseSeconds: 30)
            async let second = queue.claim(owner: "b", kinds: ["text", "image"], limit: 60, leaseSeconds: 30)
            let (a, b) = try await (first, second)
            #expect(a.count + b.count == 120)
            #expect(Set(a.map(\.id)).isDisjoint(with: b.map(\.id)))
            #expect((a + b).contains { $0.id == ids[199] }, "the high-priority job is among the first taken")
            let texts = try await queue.claim(owner: "c", kinds: ["text"], limit: 500, leaseSeconds: 30)
            #expect(texts.allSatisfy { $0.kind == "text" })
            #expect(try await queue.counts()["queued"] == 200 - 120 - texts.count)
        }
    }

    /// A lease that expires returns the job; the worker that lost it cannot
    /// finish it; only a job that started running is charged the attempt;
    /// a claim past the last attempt says so (its worker writes the error result).
    @Test func expiredLeasesAreReapedAndAttemptsCounted() async throws {
        try await withQueue { queue in
            let id = try await queue.enqueue(NewJob(key: "one", inputLocation: "/shared/in/one", kind: "audio", maxAttempts: 2))
            let leased = try await queue.claim(owner: "w0", kinds: ["audio"], limit: 1, leaseSeconds: 0.2)
            #expect(leased.map(\.attempts) == [1])
            try await Task.sleep(for: .milliseconds(400))
            #expect(try await queue.reap() == 1)
            #expect(try await queue.state(of: id)?.attempts == 0, "leased but never started: the attempt is given back")
            let first = try await queue.claim(owner: "w1", kinds: ["audio"], limit: 1, leaseSeconds: 0.2)
            #expect(first.map(\.attempts) == [1])
            try await queue.markRan(owner: "w1", ids: [id])
            try await Task.sleep(for: .milliseconds(400))
            #expect(try await queue.reap() == 1)
            #expect(try await queue.renew(owner: "w1", ids: [id], leaseSeconds: 30).isEmpty, "the lease is gone")
            let second = try await queue.claim(owner: "w2", kinds: ["audio"], limit: 1, leaseSeconds: 0.2)
            #expect(second.map(\.attempts) == [2])
            #expect(second.first?.attemptsExhausted == false)
            try await queue.markRan(owner: "w1", ids: [id])  // the old owner cannot mark it
            #expect(try await queue.finish(id: id, owner: "w1", .done(resultLocation: "/shared/out/one.json")) == false)
            try await queue.markRan(owner: "w2", ids: [id])
            try await Task.sleep(for: .milliseconds(400))
            #expect(try await queue.reap() == 1)
            let third = try await queue.claim(owner: "w3", kinds: ["audio"], limit: 1, leaseSeconds: 30)
            #expect(third.map(\.attempts) == [3])
            #expect(third.first?.attemptsExhausted == true)
            #expect(try await queue.finish(id: id, owner: "w3", .failed(code: "internal", message: "gave up", resultLocation: "one.json")))
            #expect(try await queue.counts() == ["failed": 1])
            #expect(try await queue.state(of: id)?.errorCode == "internal")
        }
    }

    /// A graceful stop gives leases back at once, without charging them;
    /// retry and cancel change only jobs in the states they apply to.
    @Test func releaseRetryAndCancel() async throws {
        try await withQueue { queue in
            let a = try await queue.enqueue(NewJob(key: "a", inputLocation: "a", kind: "text"))
            let b = try await queue.enqueue(NewJob(key: "b", inputLocation: "b", kind: "text"))
            #expect(try await queue.enqueue(NewJob(key: "a", inputLocation: "a", kind: "text")) == a, "the same key is the same job")
            let claimed = try await queue.claim(owner: "w", kinds: ["text"], limit: 2, leaseSeconds: 30)
            #expect(claimed.count == 2)
            #expect(try await queue.release(owner: "other", ids: [a, b]) == 0)
            #expect(try await queue.release(owner: "w", ids: [a]) == 1)
            #expect(try await queue.state(of: a)?.state == "queued")
            #expect(try await queue.state(of: a)?.attempts == 0)
            #expect(try await queue.retry(id: a) == false, "a queued job is not retried")
            #expect(try await queue.cancel(id: b))
            #expect(try await queue.renew(owner: "w", ids: [b], leaseSeconds: 30).isEmpty, "a cancelled job's lease is gone")
            #expect(try await queue.cancel(id: b) == false)
            #expect(try await queue.retry(id: b))
            let depth = try await queue.depth()
            #expect(depth.total(state: "queued") == 2 && depth.total(state: "running") == 0)
            #expect(depth.oldestWaitingSeconds != nil)
            let report = try await queue.report()
            #expect(report.total(state: "queued") == 2)
            #expect(report.oldestWaitingSeconds != nil)
            let recorded = try await queue.finish(owner: "w", [(a, .done(resultLocation: "x"))])
            #expect(recorded.isEmpty, "not leased: nothing recorded")
        }
    }
}
