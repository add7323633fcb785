/// The queue's tables, created and migrated by `quern queue init` (and
/// checked by every worker at start). Each migration is a list of
/// statements applied in one transaction, under an advisory lock, so two
/// nodes initialising at once cannot both apply it; `quern_schema` records
/// which versions are in. Migrations are only ever appended.
public enum QueueSchema {
    public struct Migration: Sendable {
        public var version: Int
        public var summary: String
        public var statements: [String]
    }

    /// The channel workers LISTEN on: a row that becomes `queued` notifies it
    /// with its kind, so an idle worker wakes at once (and polls slowly too:
    /// a lost notification only delays).
    public static let channel = "quern_jobs"

    public static let migrations: [Migration] = [
        Migration(version: 1, summary: "jobs table, claim and lease indexes, queued-job notification", statements: [
            """
            CREATE TABLE quern_jobs (
                id bigserial PRIMARY KEY,
                enqueue_key text NOT NULL UNIQUE,
                input_location text NOT NULL,
                input_sha256 text,
                kind text NOT NULL,
                task text,
                parameters jsonb NOT NULL DEFAULT '{}'::jsonb,
                state text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
                priority integer NOT NULL DEFAULT 0,
                attempts integer NOT NULL DEFAULT 0,
                ran boolean NOT NULL DEFAULT false,
                leases integer NOT NULL DEFAULT 0,
                max_attempts integer NOT NULL DEFAULT 3 CHECK (max_attempts >= 1),
                lease_owner text,
                lease_expires_at timestamptz,
                created_at timestamptz NOT NULL DEFAULT now(),
                started_at timestamptz,
                finished_at timestamptz,
                error_code text,
                error_message text,
                result_location text
            )
            """,
            "CREATE INDEX quern_jobs_waiting ON quern_jobs (priority DESC, id) WHERE state = 'queued'",
            "CREATE INDEX quern_jobs_leased ON quern_jobs (lease_expires_at) WHERE state = 'running'",
            """
            CREATE FUNCTION quern_jobs_notify() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM pg_notify('\(channel)', NEW.kind);
                RETURN NULL;
            END
            $$
            """,
            """
            CREATE TRIGGER quern_jobs_queued AFTER INSERT OR UPDATE OF state ON quern_jobs
            FOR EACH ROW WHEN (NEW.state = 'queued') EXECUTE FUNCTION quern_jobs_notify()
            """,
        ]),
    ]

    public static var latestVersion: Int { migrations.last?.version ?? 0 }
}
