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
                attempts = attempts + 1, started_at = coalesce(started_at, now())
            WHERE id IN (
                SELECT id FROM quern_jobs WHERE state = 'queued' AND kind = ANY(\(kinds))
                ORDER BY priority DESC, id LIMIT \(limit) FOR UPDATE SKIP LOCKED)
            RETURNING id, input_location, input_sha256, kind, task, parameters::text, attempts
            """, logger: logger)
        var jobs: [QueuedJob] = []
        for try await (id, location, sha256, kind, task, parameters, attempts) in rows.decode((Int64, String, String?, String, String?, String, Int).self) {
            jobs.append(QueuedJob(id: id, inputLocation: location, inputSHA256: sha256, kind: kind, task: task, parameters: parameters, attempts: attempts))
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

    public enum Outcome: Sendable {
        case done(resultLocation: String)
        case failed(code: String, message: String, resultLocation: String?)
    }

    /// Records the job's end if `owner` still holds it; false when the lease
    /// was lost (its result, written under the job's id, is then the same
    /// file another worker writes: results are idempotent).
    public func finish(id: Int64, owner: String, _ outcome: Outcome) async throws -> Bool {
        let rows: PostgresRowSequence
        switch outcome {
        case let .done(location):
            rows = try await client.query("""
                UPDATE quern_jobs SET state = 'done', result_location = \(location), finished_at = now(), lease_owner = NULL, lease_expires_at = NULL
                WHERE id = \(id) AND lease_owner = \(owner) AND state = 'running' RETURNING id
                """, logger: logger)
        case let .failed(code, message, location):
            rows = try await client.query("""
                UPDATE quern_jobs SET state = 'failed', error_code = \(code), error_message = \(message), result_location = \(location),
                    finished_at = now(), lease_owner = NULL, lease_expires_at = NULL
                WHERE id = \(id) AND lease_owner = \(owner) AND state = 'running' RETURNING id
                """, logger: logger)
        }
        for try await _ in rows { return true }
        return false
    }

    /// Returns expired leases to the queue, or fails the jobs that used up
    /// their attempts; returns (requeued, failed) counts.
    public func reap() async throws -> (requeued: Int, failed: Int) {
        let rows = try await client.query("""
            UPDATE quern_jobs SET
                state = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END,
                error_code = CASE WHEN attempts >= max_attempts THEN 'queue.attempts_exhausted' ELSE error_code END,
                error_message = CASE WHEN attempts >= max_attempts
                    THEN 'the worker running it stopped (lease expired) on each of its ' || attempts || ' attempts' ELSE error_message END,
                finished_at = CASE WHEN attempts >= max_attempts THEN now() ELSE NULL END,
                lease_owner = NULL, lease_expires_at = NULL
            WHERE state = 'running' AND lease_expires_at < now()
            RETURNING state
            """, logger: logger)
        var requeued = 0
        var failed = 0
        for try await state in rows.decode(String.self) {
            if state == "failed" { failed += 1 } else { requeued += 1 }
        }
        return (requeued, failed)
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
}
