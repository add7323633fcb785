import QuernPipelines
import Synchronization

/// A request that came over the HTTP API instead of as a file: it has no
/// claim on disk, so its result goes back to the waiting connection
/// (`deliver`), and a client that hangs up cancels it.
public final class APICall: Sendable {
    /// Stands where a file's claim id stands (memory reservations, status,
    /// logs, the result's `claim_id`).
    public let id: String
    /// How logs and `quern status` name it, e.g. `POST /v1/chat/completions`.
    public let label: String
    /// Called once with the result (success or error), from a writer thread.
    let deliver: @Sendable (ResultDocument) -> Void
    /// Called with the output so far while the model works (streaming).
    let partial: (@Sendable (TaskOutput) -> Void)?
    private let cancelled = Atomic<Bool>(false)
    private static let ids = ClaimIDGenerator()

    public init(label: String, deliver: @escaping @Sendable (ResultDocument) -> Void, partial: (@Sendable (TaskOutput) -> Void)? = nil) {
        id = "api-" + Self.ids.next()
        self.label = label
        self.deliver = deliver
        self.partial = partial
    }

    /// The client went away: the job stops at its next checkpoint.
    public func cancel() { cancelled.store(true, ordering: .releasing) }

    public var isCancelled: Bool { cancelled.load(ordering: .acquiring) }
}

/// Where a job came from. The engine (lanes, limits, batching) treats all
/// alike; only where the result goes differs.
enum JobOrigin: Sendable {
    /// A file claimed from the inbox: its result is a file in the outbox.
    case file(Claim)
    /// A request on the HTTP API: its result is the HTTP response.
    case api(APICall)
    /// A job leased from the shared queue (`--queue`): its result goes to
    /// the shared outbox and its end to the job's row.
    case queued(LeasedJob)

    /// The claim id, the call's id, or `job-<id>`.
    var id: String {
        switch self {
        case let .file(claim): return claim.id
        case let .api(call): return call.id
        case let .queued(job): return job.id
        }
    }

    var claim: Claim? {
        if case let .file(claim) = self { return claim }
        return nil
    }
}
