import Logging
import PostgresNIO

/// A job as the queue holds it.
public struct QueuedJob: Sendable, Equatable {
    public var id: Int64
    public var inputLocation: String
    public var inputSHA256: String?
    public var kind: String
    public var task: String?
    /// The request's fields, as JSON text (jsonb in the table).
    public var parameters: String
    /// Including the one that claimed it now.
    public var attempts: Int
    /// More attempts than this: the worker that claims it writes an error
    /// result instead of running it (workers kept dying while holding it).
    public var maxAttempts: Int = 3
    /// Times it was leased in all, counting the leases whose attempt was
    /// given back (the worker died before it started the job).
    public var leases: Int = 1

    /// A job leased this many times per attempt is set aside too: a worker
    /// that dies before it records the start (while reading the input) is
    /// not charged the attempt, so this bounds a job that kills workers there.
    public static let leasesPerAttempt = 5

    public var attemptsExhausted: Bool { attempts > maxAttempts || leases > maxAttempts * Self.leasesPerAttempt }

    public init(id: Int64, inputLocation: String, inputSHA256: String? = nil, kind: String, task: String? = nil, parameters: String,
                attempts: Int, maxAttempts: Int = 3, leases: Int = 1) {
        self.id = id
        self.inputLocation = inputLocation
        self.inputSHA256 = inputSHA256
        self.kind = kind
        self.task = task
        self.parameters = parameters
        self.attempts = attempts
        self.maxAttempts = maxAttempts
        self.leases = leases
    }
}

/// What a worker hands in for a new job.
public struct NewJob: Sendable {
    /// Makes enqueueing idempotent: a feeder that crashed after moving the
    /// file but before it knew the row was in enqueues again under the same
    /// key and gets the same job (e.g. the file's claim id on shared storage).
    public var key: String
    public var inputLocation: String
    public var inputSHA256: String?
    public var kind: String
    public var task: String?
    public var parameters: String
    public var priority: Int
    public var maxAttempts: Int

    public init(key: String, inputLocation: String, inputSHA256: String? = nil, kind: String, task: String? = nil,
                parameters: String = "{}", priority: Int = 0, maxAttempts: Int = 3) {
        self.key = key
        self.inputLocation = inputLocation
        self.inputSHA256 = inputSHA256
        self.kind = kind
        self.task = task
        self.parameters = parameters
        self.priority = priority
        self.maxAttempts = maxAttempts
    }
}

/// The statements of the queue: migrate, enqueue, claim (one `UPDATE … WHERE
/// id IN (SELECT … FOR UPDATE SKIP LOCKED)`), renew, finish and reap. Every
/// state change names the lease owner, so a worker whose lease expired and
/// was taken over cannot finish the job a second time.
public struct JobQueue: Sendable {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Applies the migrations the database lacks; returns the versions applied.
    @discardableResult
    public func migrate() async throws -> [Int] {
        try await client.withTransaction(logger: logger) { connection in
            // One initialiser at a time, across every node.
            _ = try await connection.query("SELECT pg_advisory_xact_lock(hashtext('quern_schema'))", logger: logger)
            _ = try await connection.query("""
                CREATE TABLE IF NOT EXISTS quern_schema (version integer PRIMARY KEY, summary text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
                """, logger: logger)
            var current = 0
            for try await version in try await connection.query("SELECT coalesce(max(version), 0) FROM quern_schema", logger: logger).decode(Int.self) {
                current = version
            }
            if current > QueueSchema.latestVersion {
                throw QueueError(.schemaTooNew, "the queue's schema is version \(current); this quern knows up to \(QueueSchema.latestVersion): upgrade quern on this node")
            }
            var applied: [Int] = []
            for migration in QueueSchema.migrations where migration.version > current {
                for statement in migration.statements {
                    _ = try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                _ = try await connection.query("INSERT INTO quern_schema (version, summary) VALUES (\(migration.version), \(migration.summary))", logger: logger)
                applied.append(migration.version)
            }
            return applied
        }
    }

    /// The schema version the database has (0: not initialised). Workers
    /// check it at start; only `quern queue init` migrates.
    public func schemaVersion() async throws -> Int {
        var exists = false
        for try await found in try await client.query("SELECT to_regclass('quern_schema') IS NOT NULL", logger: logger).decode(Bool.self) {
            exists = found
        }
        guard exists else { return 0 }
        for try await version in try await client.query("SELECT coalesce(max(version), 0) FROM quern_schema", logger: logger).decode(Int.self) {
            return version
        }
        return 0
    }

    /// The id of the job enqueued under `key`, if there is one.
    public func jobID(forKey key: String) async throws -> Int64? {
        for try await id in try await client.query("SELECT id FROM quern_jobs WHERE enqueue_key = \(key)", logger: logger).decode(Int64.self) {
            return id
        }
        return nil
    }

    /// The job's id: a new row, or the one enqueued earlier under the same key.
    public func enqueue(_ job: NewJob) async throws -> Int64 {
        let rows = try await client.query("""
            INSERT INTO quern_jobs (enqueue_key, input_location, input_sha256, kind, task, parameters, priority, max_attempts)
            VALUES (\(job.key), \(job.inputLocation), \(job.inputSHA256), \(job.kind), \(job.task), \(job.parameters)::jsonb, \(job.priority), \(job.maxAttempts))
            ON CONFLICT (enqueue_key) DO UPDATE SET enqueue_key = EXCLUDED.enqueue_key
            RETURNING id
            """, logger: logger)
        for try await id in rows.decode(Int64.self) { return id }
        throw QueueError(.statementFailed, "enqueue returned no id")
    }

    /// Takes up to `limit` waiting jobs of `kinds` (highest priority, then
    /// oldest), leased to `owner` for `leaseSeconds`. Rows another worker is
    /// claiming at the same moment are skipped, not waited for.
    public func claim(owner: String, kinds: [String], limit: Int, leaseSeconds: Double) async throws -> [QueuedJob] {
        let rows = try await client.query("""
            UPDATE quern_jobs SET state = 'running', lease_owner = \(owner), lease_expires_at = now() + make_interval(secs => \(leaseSeconds)),
                attempts = attempts + 1, leases = leases + 1, started_at = coalesce(started_at, now())
            WHERE id IN (
                SELECT id FROM quern_jobs WHERE state = 'queued' AND kind = ANY(\(kinds))
                ORDER BY priority DESC, id LIMIT \(limit) FOR UPDATE SKIP LOCKED)
            RETURNING id, input_location, input_sha256, kind, task, parameters::text, attempts, max_attempts, leases
            """, logger: logger)
        var jobs: [QueuedJob] = []
        for try await (id, location, sha256, kind, task, parameters, attempts, maxAttempts, leases)
            in rows.decode((Int64, String, String?, String, String?, String, Int, Int, Int).self) {
            jobs.append(QueuedJob(id: id, inputLocation: location, inputSHA256: sha256, kind: kind, task: task, parameters: parameters,
                                  attempts: attempts, maxAttempts: maxAttempts, leases: leases))
        }
        return jobs.sorted { $0.id < $1.id }
    }

    /// Extends the leases `owner` still holds; returns the ids it holds (a
    /// job missing from the answer was reaped and may run elsewhere).
    public func renew(owner: String, ids: [Int64], leaseSeconds: Double) async throws -> Set<Int64> {
        let rows = try await client.query("""
            UPDATE quern_jobs SET lease_expires_at = now() + make_interval(secs => \(leaseSeconds))
            WHERE id = ANY(\(ids)) AND lease_owner = \(owner) AND state = 'running'
            RETURNING id
            """, logger: logger)
        var held = Set<Int64>()
        for try await id in rows.decode(Int64.self) { held.insert(id) }
        return held
    }

    public enum Outcome: Sendable, Equatable {
        case done(resultLocation: String)
        case failed(code: String, message: String, resultLocation: String?)
    }

    /// Records the job's end if `owner` still holds it; false when the lease
    /// was lost (its result, written under the job's id, is then the same
    /// file another worker writes: results are idempotent).
    public func finish(id: Int64, owner: String, _ outcome: Outcome) async throws -> Bool {
        try await finish(owner: owner, [(id, outcome)]).contains(id)
    }

    /// Records many ends in one statement (one commit for a writer's burst);
    /// returns the ids `owner` still held, the ones whose end was recorded.
    public func finish(owner: String, _ outcomes: [(id: Int64, outcome: Outcome)]) async throws -> Set<Int64> {
        if outcomes.isEmpty { return [] }
        var ids: [Int64] = []
        var states: [String] = []
        var locations: [String] = []
        var codes: [String] = []
        var messages: [String] = []
        for (id, outcome) in outcomes {
            ids.append(id)
            switch outcome {
            case let .done(location):
                states.append("done"); locations.append(location); codes.append(""); messages.append("")
            case let .failed(code, message, location):
                states.append("failed"); locations.append(location ?? ""); codes.append(code); messages.append(message)
            }
        }
        // Empty strings stand for NULL: the arrays travel as text[].
        let rows = try await client.query("""
            UPDATE quern_jobs AS j SET state = f.state, result_location = nullif(f.location, ''), error_code = nullif(f.code, ''),
                error_message = nullif(f.message, ''), finished_at = now(), lease_owner = NULL, lease_expires_at = NULL
            FROM unnest(\(ids)::bigint[], \(states)::text[], \(locations)::text[], \(codes)::text[], \(messages)::text[])
                AS f(id, state, location, code, message)
            WHERE j.id = f.id AND j.lease_owner = \(owner) AND j.state = 'running'
            RETURNING j.id
            """, logger: logger)
        var recorded = Set<Int64>()
        for try await id in rows.decode(Int64.self) { recorded.insert(id) }
        return recorded
    }

    /// Gives leases back without charging the attempt (a worker stopping
    /// gracefully, or one that claimed more than it could start): the jobs
    /// are queued again at once instead of waiting for their leases to expire.
    @discardableResult
    public func release(owner: String, ids: [Int64]) async throws -> Int {
        if ids.isEmpty { return 0 }
        let rows = try await client.query("""
            UPDATE quern_jobs SET state = 'queued', attempts = greatest(attempts - 1, 0), lease_owner = NULL, lease_expires_at = NULL, ran = false
            WHERE id = ANY(\(ids)) AND lease_owner = \(owner) AND state = 'running'
            RETURNING id
            """, logger: logger)
        var released = 0
        for try await _ in rows { released += 1 }
        return released
    }

    /// `quern queue retry`: a failed or cancelled job goes back to the queue
    /// with its attempts reset. False when there is no such job in those states.
    public func retry(id: Int64) async throws -> Bool {
        let rows = try await client.query("""
            UPDATE quern_jobs SET state = 'queued', attempts = 0, error_code = NULL, error_message = NULL, finished_at = NULL,
                result_location = NULL
            WHERE id = \(id) AND state IN ('failed', 'cancelled') RETURNING id
            """, logger: logger)
        for try await _ in rows { return true }
        return false
    }

    /// `quern queue cancel`: a queued job never runs; a running one is taken
    /// from its worker, which sees the lost lease at its next renewal and
    /// stops it without writing a result. False when the job already ended.
    public func cancel(id: Int64) async throws -> Bool {
        let rows = try await client.query("""
            UPDATE quern_jobs SET state = 'cancelled', finished_at = now(), lease_owner = NULL, lease_expires_at = NULL,
                error_code = 'cancelled', error_message = 'cancelled with quern queue cancel'
            WHERE id = \(id) AND state IN ('queued', 'running') RETURNING id
            """, logger: logger)
        for try await _ in rows { return true }
        return false
    }

    /// The worker is about to run these jobs in a model: from now on a death
    /// of the worker is charged to them (a job merely leased, waiting behind
    /// others, gets its attempt back when its lease is reaped).
    public func markRan(owner: String, ids: [Int64]) async throws {
        if ids.isEmpty { return }
        _ = try await client.query("""
            UPDATE quern_jobs SET ran = true WHERE id = ANY(\(ids)) AND lease_owner = \(owner) AND state = 'running'
            """, logger: logger)
    }

    /// Returns expired leases to the queue; returns how many. A job is never
    /// failed here, where no result can be written: the worker that claims
    /// it past its last attempt writes its error result (`attemptsExhausted`),
    /// so every job ends with exactly one result.
    public func reap() async throws -> Int {
        let rows = try await client.query("""
            UPDATE quern_jobs SET state = 'queued', lease_owner = NULL, lease_expires_at = NULL, ran = false,
                attempts = CASE WHEN ran THEN attempts ELSE greatest(attempts - 1, 0) END,
                error_message = CASE WHEN ran THEN 'the lease of attempt ' || attempts || ' expired (its worker stopped, or lost PostgreSQL)'
                    ELSE error_message END
            WHERE state = 'running' AND lease_expires_at < now()
            RETURNING id
            """, logger: logger)
        var requeued = 0
        for try await _ in rows { requeued += 1 }
        return requeued
    }

    /// Jobs by state (`quern queue status`).
    public func counts() async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for try await (state, count) in try await client.query("SELECT state, count(*)::bigint FROM quern_jobs GROUP BY state", logger: logger)
            .decode((String, Int).self) {
            counts[state] = count
        }
        return counts
    }

    /// The jobs waiting and running, by kind, and the oldest waiting job's
    /// age: what every worker reads every few seconds for its metrics. It
    /// touches only those rows (the partial indexes), never the ended ones,
    /// which grow without bound.
    public func depth() async throws -> QueueReport {
        var report = QueueReport()
        for try await (state, kind, count, oldest) in try await client.query("""
            SELECT state, kind, count(*)::bigint, coalesce(extract(epoch FROM now() - min(created_at)), -1)::float8
            FROM quern_jobs WHERE state IN ('queued', 'running') GROUP BY state, kind
            """, logger: logger).decode((String, String, Int, Double).self) {
            report.counts.append(.init(state: state, kind: kind, count: count))
            if state == "queued", oldest >= 0 { report.oldestWaitingSeconds = max(report.oldestWaitingSeconds ?? 0, oldest) }
        }
        return report
    }

    /// What `quern queue status` prints: every state, and the recent rate.
    public func report() async throws -> QueueReport {
        var report = QueueReport()
        for try await (state, kind, count) in try await client.query(
            "SELECT state, kind, count(*)::bigint FROM quern_jobs GROUP BY state, kind ORDER BY state, kind", logger: logger)
            .decode((String, String, Int).self) {
            report.counts.append(.init(state: state, kind: kind, count: count))
        }
        for try await (oldest, finished, retried) in try await client.query("""
            SELECT coalesce(extract(epoch FROM now() - (SELECT min(created_at) FROM quern_jobs WHERE state = 'queued')), -1)::float8,
                   (SELECT count(*) FROM quern_jobs WHERE finished_at > now() - interval '60 seconds')::bigint,
                   (SELECT count(*) FROM quern_jobs WHERE attempts > 1)::bigint
            """, logger: logger).decode((Double, Int, Int).self) {
            report.oldestWaitingSeconds = oldest < 0 ? nil : oldest
            report.finishedLastMinute = finished
            report.jobsRetried = retried
        }
        return report
    }

    /// One job's row (`GET /v1/queue/jobs`, the tests).
    public func job(id: Int64) async throws -> JobRow? {
        for try await (state, attempts, code, message, location) in try await client.query(
            "SELECT state, attempts, error_code, error_message, result_location FROM quern_jobs WHERE id = \(id)", logger: logger)
            .decode((String, Int, String?, String?, String?).self) {
            return JobRow(id: id, state: state, attempts: attempts, errorCode: code, errorMessage: message, resultLocation: location)
        }
        return nil
    }

    public func state(of id: Int64) async throws -> (state: String, attempts: Int, errorCode: String?)? {
        try await job(id: id).map { ($0.state, $0.attempts, $0.errorCode) }
    }
}

/// A job's row as an operator or client sees it.
public struct JobRow: Sendable, Equatable {
    public var id: Int64
    public var state: String
    public var attempts: Int
    public var errorCode: String?
    public var errorMessage: String?
    public var resultLocation: String?
}

/// Counts by state and kind, the oldest waiting job and the recent rate.
public struct QueueReport: Sendable, Equatable {
    public struct Count: Sendable, Equatable {
        public var state: String
        public var kind: String
        public var count: Int
    }

    public var counts: [Count] = []
    /// Age of the oldest queued job; nil when none waits.
    public var oldestWaitingSeconds: Double?
    /// Jobs that ended (done or failed) in the last minute, across all workers.
    public var finishedLastMinute = 0
    /// Jobs that needed more than one attempt.
    public var jobsRetried = 0

    public init() {}

    public func total(state: String) -> Int { counts.filter { $0.state == state }.reduce(0) { $0 + $1.count } }
}
