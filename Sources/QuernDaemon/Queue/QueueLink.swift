import Dispatch
import Foundation
import Logging
import PostgresNIO
import QuernPipelines
import QuernQueue
import Synchronization

/// What `--queue` and `--shared` set up.
public struct QueueSettings: Sendable {
    public var location: QueueLocation
    /// From `--queue-password-file` or the libpq password file (`QueuePassword`).
    public var password: String?
    /// The folder every node shares (`SharedStorage`).
    public var shared: String
    /// How long a claim holds a job without a renewal; renewed every third of it.
    public var leaseSeconds: Double = 30
    /// How often an idle worker looks for jobs when no notification came.
    public var pollSeconds: Double = 2
    /// Jobs leased ahead of what runs (`--queue-prefetch`).
    public var prefetch = 16
    /// Whether this node takes jobs (false: it only feeds its inbox to the queue).
    public var works = true

    public init(location: QueueLocation, password: String?, shared: String) {
        self.location = location
        self.password = password
        self.shared = shared
    }
}

/// One worker's link to the shared queue: a pooled PostgreSQL client and
/// the threads around it — the claimer (takes jobs while the pipeline has
/// room, woken by LISTEN/NOTIFY and by a slow poll), the keeper (renews
/// leases, reaps expired ones, reads the queue's depth) and the finisher
/// (records ends in batches, then archives inputs). Every statement is
/// retried with back-off while PostgreSQL is away: a restart delays jobs,
/// loses none, and stops nothing.
final class QueueLink: Sendable {
    struct Ending: Sendable {
        var job: LeasedJob
        var outcome: JobQueue.Outcome
        var succeeded: Bool
    }

    let settings: QueueSettings
    let storage: SharedStorage
    /// Names this worker's leases: host, pid and start time.
    let owner: String
    /// Makes this process's temporary names in the shared outbox its own.
    let token = String(UInt32.random(in: 0...UInt32.max), radix: 36)
    /// Claims, renewals, ends and reaping: committed without waiting for the
    /// WAL flush. Losing one in a server crash only makes a job run again,
    /// and a job that runs twice still leaves one result.
    private let queue: JobQueue
    private let client: PostgresClient
    /// Enqueueing: durable before a feeder lets go of its local copy.
    private let durableQueue: JobQueue
    private let durableClient: PostgresClient
    private let logger: Logger
    private let observer: any DaemonObserver
    private let capacity: Int
    private let kinds: [String]
    private let running = Mutex<Task<Void, Never>?>(nil)
    private let listening = Mutex<Task<Void, Never>?>(nil)
    private let held = Mutex<[Int64: LeasedJob]>([:])
    /// Signalled by notifications (new jobs) and by ends (room for more).
    private let wake = DispatchSemaphore(value: 0)
    private let endings: BoundedQueue<Ending>
    private let stopped = Atomic<Bool>(false)
    private let claimingStopped = Atomic<Bool>(false)
    private let threads = DispatchGroup()
    /// Claim statement latencies, seconds (for `quern queue` benchmarks and the log at stop).
    private let claimLatencies = Mutex<[Double]>([])

    init(settings: QueueSettings, servedTasks: [TaskName], logger: Logger, observer: any DaemonObserver) {
        self.settings = settings
        storage = SharedStorage(root: Array(settings.shared.utf8))
        let host = ProcessInfo.processInfo.hostName
        owner = "\(host):\(ProcessInfo.processInfo.processIdentifier):\(String(UInt64(Date().timeIntervalSince1970 * 1000), radix: 36))"
        client = settings.location.makeClient(password: settings.password, logger: logger, durable: false)
        queue = JobQueue(client: client, logger: logger)
        durableClient = settings.location.makeClient(password: settings.password, logger: logger)
        durableQueue = JobQueue(client: durableClient, logger: logger)
        self.logger = logger
        self.observer = observer
        capacity = max(1, settings.prefetch)
        kinds = QueueKind.served(by: servedTasks)
        endings = BoundedQueue(capacity: max(64, capacity * 2))
    }

    // MARK: Start and stop

    /// Connects and checks the schema (a worker never migrates: `quern queue init` does).
    func connect() throws {
        try settings.location.checkReachable()
        let (client, durableClient) = (client, durableClient)
        running.withLock { $0 = Task { await withDiscardingTaskGroup { group in
            group.addTask { await client.run() }
            group.addTask { await durableClient.run() }
        } } }
        try storage.prepare()
        let swept = storage.sweepTemporaryResults(olderThan: 600)
        if swept > 0 { logger.notice("removed temporary results that dead writers left in the shared outbox", metadata: ["files": "\(swept)"]) }
        let version = try call(seconds: 15) { queue in try await queue.schemaVersion() }
        guard version == QueueSchema.latestVersion else {
            throw QueueError(.schemaTooNew, version == 0
                ? "the queue has no tables yet: run `quern queue init --queue \(settings.location)` once"
                : "the queue's schema is version \(version), this quern expects \(QueueSchema.latestVersion): run `quern queue init` with the newer quern")
        }
    }

    /// Starts the claimer (if this node works), keeper, finisher and listener.
    /// `deliver` hands a claimed job to the pipeline (blocking while it is full).
    func start(deliver: @escaping @Sendable (LeasedJob) -> Bool) {
        if settings.works {
            startThread("queue-claimer") { [self] in claimLoop(deliver: deliver) }
            listening.withLock { $0 = Task { [self] in await listen() } }
        }
        startThread("queue-keeper") { [self] in keepLoop() }
        startThread("queue-finisher") { [self] in finishLoop() }
    }

    /// Takes no more jobs (a graceful stop begins); leases of the jobs
    /// running are still renewed until `stop`.
    func stopClaiming() {
        claimingStopped.store(true, ordering: .releasing)
        wake.signal()
    }

    /// At the end of a graceful stop, once every writer is done: records the
    /// ends already handed in (within `grace`), gives back every lease still
    /// held (jobs never started, or handed back), and closes the connections.
    func stop(grace: Double) {
        stopped.store(true, ordering: .releasing)
        wake.signal()
        listening.withLock { $0?.cancel() }
        _ = endings.close()
        if threads.wait(timeout: .now() + .nanoseconds(Int(grace * 1e9))) == .timedOut {
            logger.warning("the queue's finisher did not finish in time; unrecorded jobs run again elsewhere once their leases expire")
        }
        let leftovers = held.withLock { Array($0.keys) }
        if !leftovers.isEmpty {
            do {
                let released = try call(seconds: 5) { [owner] queue in try await queue.release(owner: owner, ids: leftovers) }
                logger.notice("gave back leases at stop", metadata: ["jobs": "\(released)"])
                observer.observe(.queue(.released(released)))
            } catch {
                logger.warning("cannot give back leases at stop; they are reaped when they expire", metadata: ["jobs": "\(leftovers.count)", "error": "\(error)"])
            }
        }
        let latencies = claimLatencies.withLock { $0 }.sorted()
        if !latencies.isEmpty {
            logger.info("claim latency", metadata: [
                "claims": "\(latencies.count)", "median_ms": "\(Self.milliseconds(latencies[latencies.count / 2]))",
                "p99_ms": "\(Self.milliseconds(latencies[min(latencies.count - 1, latencies.count * 99 / 100)]))",
            ])
        }
        running.withLock { $0?.cancel() }
    }

    // MARK: What the daemon hands in

    /// Records a job's end (from a writer); the finisher commits ends in
    /// batches. After `stop` closed the finisher, the job stays held and its
    /// lease is given back instead: its result is written, and the next run
    /// replaces it with the same.
    func finish(_ job: LeasedJob, outcome: JobQueue.Outcome, succeeded: Bool) {
        job.markEnded()
        _ = endings.put(Ending(job: job, outcome: outcome, succeeded: succeeded))
    }

    /// A job whose lease was lost: dropped without a result.
    func forget(_ job: LeasedJob) {
        held.withLock { $0[job.row.id] = nil }
        wake.signal()
    }

    var heldCount: Int { held.withLock { $0.count } }

    /// Charges the jobs' attempts now that a batch of them is about to run
    /// in a model, in one statement (a job only leased gets its attempt back
    /// when its lease is reaped; one that kills workers while its input is
    /// read is bounded by `QueuedJob.leasesPerAttempt`). Unanswered within
    /// 5 s, the batch runs uncharged rather than waiting.
    func markRan(_ jobs: [LeasedJob]) {
        guard !jobs.isEmpty else { return }
        let ids = jobs.map(\.row.id)
        do {
            try call(seconds: 5) { [owner] queue in try await queue.markRan(owner: owner, ids: ids) }
        } catch {
            logger.warning("cannot record that jobs started; they run, and a crash during them is not charged to them", metadata: [
                "jobs": "\(ids.count)", "error": "\(error)",
            ])
        }
    }

    // MARK: Feeding (any node with an inbox)

    /// The job's id if a row with this key exists (a feeder resuming after a crash).
    func jobID(forKey key: String) throws -> Int64? {
        try withRetries("look up a fed input") { try call(seconds: 15, durable: true) { queue in try await queue.jobID(forKey: key) } }
    }

    /// Inserts the row (idempotent by key), retrying while PostgreSQL is away.
    func enqueue(_ job: NewJob) throws -> Int64 {
        let id = try withRetries("enqueue an input") { try call(seconds: 15, durable: true) { queue in try await queue.enqueue(job) } }
        observer.observe(.queue(.fed(1)))
        return id
    }

    /// Inserts the row once, within `seconds` (an HTTP client retries itself).
    func enqueueOnce(_ job: NewJob, seconds: Double = 10) throws -> Int64 {
        let id = try call(seconds: seconds, durable: true) { queue in try await queue.enqueue(job) }
        observer.observe(.queue(.fed(1)))
        return id
    }

    /// A job's row, within `seconds`.
    func row(id: Int64, seconds: Double = 10) throws -> JobRow? {
        try call(seconds: seconds) { queue in try await queue.job(id: id) }
    }

    // MARK: Threads

    private func claimLoop(deliver: @escaping @Sendable (LeasedJob) -> Bool) {
        var failures = 0
        while !isStopped, !claimingStopped.load(ordering: .acquiring) {
            let room = capacity - heldCount
            if room <= 0 {
                _ = wake.wait(timeout: .now() + 0.2)
                continue
            }
            let rows: [QueuedJob]
            let started = DispatchTime.now()
            do {
                rows = try call(seconds: 15) { [owner, kinds, settings] queue in
                    try await queue.claim(owner: owner, kinds: kinds, limit: min(room, 32), leaseSeconds: settings.leaseSeconds)
                }
                if failures > 0 { logger.notice("the queue answers again", metadata: ["failures": "\(failures)"]) }
                failures = 0
            } catch {
                failures += 1
                backOff(after: failures, doing: "claim jobs", error: error)
                continue
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
            claimLatencies.withLock { if $0.count < 1_000_000 { $0.append(seconds) } }
            if rows.isEmpty {
                // Sleep until a notification or the slow poll; then drop the
                // notifications that piled up meanwhile (one claim serves them).
                _ = wake.wait(timeout: .now() + settings.pollSeconds)
                while wake.wait(timeout: .now()) == .success {}
                continue
            }
            observer.observe(.queue(.claimed(rows.count, retried: rows.filter { $0.attempts > 1 }.count)))
            for row in rows {
                let input = QueuedInput(parameters: row.parameters)
                    ?? QueuedInput(name: Array("job-\(row.id)".utf8), folder: nil, defaultsFile: nil,
                                   refusal: QuernError(.internalError, "the queue row's parameters are not a Quern feeder's: \(row.parameters.prefix(200))"))
                let job = LeasedJob(row: row, input: input, storage: storage)
                held.withLock { $0[row.id] = job }
                if !deliver(job) { return }
            }
        }
    }

    private func keepLoop() {
        let renewEvery = max(0.2, settings.leaseSeconds / 3)
        var nextRenew = Date().addingTimeInterval(renewEvery)
        var nextReap = Date()
        var nextReport = Date()
        while !isStopped {
            let now = Date()
            if now >= nextRenew {
                nextRenew = now.addingTimeInterval(renewEvery)
                renewLeases()
            }
            if now >= nextReap {
                nextReap = now.addingTimeInterval(max(1, settings.leaseSeconds / 6))
                if let requeued = try? call(seconds: 15, { queue in try await queue.reap() }), requeued > 0 {
                    logger.notice("expired leases reaped: their jobs are queued again", metadata: ["jobs": "\(requeued)"])
                    observer.observe(.queue(.reaped(requeued)))
                    wake.signal()
                }
            }
            if now >= nextReport {
                nextReport = now.addingTimeInterval(5)
                if let report = try? call(seconds: 15, { queue in try await queue.depth() }) {
                    observer.observe(.queue(.depth(report)))
                }
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    private func renewLeases() {
        let ids = held.withLock { Array($0.keys) }
        guard !ids.isEmpty else { return }
        do {
            let kept = try call(seconds: 15) { [owner, settings] queue in try await queue.renew(owner: owner, ids: ids, leaseSeconds: settings.leaseSeconds) }
            let missing = held.withLock { held in ids.filter { !kept.contains($0) }.compactMap { held[$0] } }
            // Not running any more: lost, unless its end was just recorded.
            let lost = missing.filter { !$0.isLost && !$0.hasEnded }
            for job in lost {
                job.markLost()
                logger.warning("lost the lease of a job (it expired and was reaped, or it was cancelled); it is stopped and its result dropped", metadata: [
                    "job": "\(job.row.id)", "name": "\(ResultNames.display(job.input.name))",
                ])
            }
            if !lost.isEmpty { observer.observe(.queue(.leasesLost(lost.count))) }
        } catch {
            logger.warning("cannot renew leases; retrying", metadata: ["jobs": "\(ids.count)", "error": "\(error)"])
        }
    }

    private func finishLoop() {
        var failures = 0
        var pending: [Ending] = []
        while true {
            if pending.isEmpty {
                let batch = endings.takeBatch(limit: { _ in 256 }, belongsWith: { _, _ in true })
                if batch.isEmpty { return }
                pending = batch
            }
            let outcomes = pending.map { (id: $0.job.row.id, outcome: $0.outcome) }
            do {
                let recorded = try call(seconds: 15) { [owner] queue in try await queue.finish(owner: owner, outcomes) }
                failures = 0
                for ending in pending {
                    if recorded.contains(ending.job.row.id) {
                        storage.archive(key: ending.job.key, succeeded: ending.succeeded)
                    } else {
                        logger.notice("a job's lease was lost before its end was recorded; the worker holding it now writes the same result", metadata: [
                            "job": "\(ending.job.row.id)",
                        ])
                    }
                }
                let ids = pending.map(\.job.row.id)
                held.withLock { held in for id in ids { held[id] = nil } }
                observer.observe(.queue(.finished(recorded.count)))
                pending = []
                wake.signal()
            } catch {
                failures += 1
                if isStopped, failures > 3 {
                    logger.warning("cannot record job ends at stop; their results are written and the jobs run again once their leases expire", metadata: [
                        "jobs": "\(pending.count)", "error": "\(error)",
                    ])
                    let ids = pending.map(\.job.row.id)
                    held.withLock { held in for id in ids { held[id] = nil } }
                    pending = []
                    continue
                }
                backOff(after: failures, doing: "record job ends", error: error)
            }
        }
    }

    /// Wakes the claimer whenever a job is queued (the trigger's NOTIFY);
    /// listens again after a lost connection.
    private func listen() async {
        var failures = 0
        while !Task.isCancelled, !isStopped {
            do {
                try await client.withConnection { connection in
                    try await connection.listen(on: QueueSchema.channel) { notifications in
                        failures = 0
                        // Catch up on what was queued while not listening.
                        self.wake.signal()
                        for try await _ in notifications { self.wake.signal() }
                    }
                }
            } catch {
                if Task.isCancelled || isStopped { return }
                failures += 1
                if failures <= 3 || failures % 20 == 0 {
                    logger.warning("not listening for new jobs (polling every \(settings.pollSeconds) s meanwhile); reconnecting", metadata: ["error": "\(error)"])
                }
            }
            try? await Task.sleep(for: .milliseconds(min(8000, 250 << min(failures, 5))))
        }
    }

    // MARK: Helpers

    private var isStopped: Bool { stopped.load(ordering: .acquiring) }

    private func call<Value: Sendable>(seconds: Double, durable: Bool = false, _ body: @escaping @Sendable (JobQueue) async throws -> Value) throws -> Value {
        let queue = durable ? durableQueue : queue
        return try BlockingCall.run(seconds: seconds) { try await body(queue) }
    }

    /// Retries `body` with back-off while the server is away (a feeder must
    /// not drop a claimed input); gives up only when the daemon stops.
    private func withRetries<Value>(_ what: String, _ body: () throws -> Value) throws -> Value {
        var failures = 0
        while true {
            do {
                return try body()
            } catch {
                failures += 1
                if isStopped { throw error }
                backOff(after: failures, doing: what, error: error)
            }
        }
    }

    private func backOff(after failures: Int, doing what: String, error: any Error) {
        let delay = min(8.0, 0.25 * Double(1 << min(failures - 1, 5)))
        if failures <= 3 || failures % 10 == 0 {
            logger.error("cannot \(what) (PostgreSQL away?); retrying", metadata: ["error": "\(error)", "retry_in_s": "\(delay)", "failures": "\(failures)"])
        }
        let wakeAt = Date().addingTimeInterval(delay)
        while Date() < wakeAt, !isStopped { Thread.sleep(forTimeInterval: 0.05) }
    }

    private func startThread(_ name: String, _ body: @escaping @Sendable () -> Void) {
        threads.enter()
        let thread = Thread { [threads] in
            body()
            threads.leave()
        }
        thread.name = "quern-\(name)"
        thread.start()
    }

    private static func milliseconds(_ seconds: Double) -> String { String(format: "%.2f", seconds * 1000) }
}
