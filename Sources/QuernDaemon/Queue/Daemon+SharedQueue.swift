import QuernJSON
import QuernPipelines
import QuernQueue

/// The shared queue's HTTP door (`POST /v1/queue/jobs`, `GET /v1/queue/jobs?id=`):
/// an input handed to whichever worker takes it, answered later. The
/// OpenAI routes are answered by the node that received them (they stream,
/// and a client waits on them); these are for work the whole queue shares.
extension Daemon {
    public enum QueueSubmission: Sendable {
        case queued(id: Int64, kind: String)
        case refused(QuernError)
        /// PostgreSQL or the shared storage did not answer: retry.
        case unavailable(String)
    }

    /// A job as `GET /v1/queue/jobs?id=` answers it: its row, and its result
    /// document once it has one.
    public struct QueuedJobState: Sendable {
        public var row: JobRow
        public var result: JSONValue?
    }

    /// Whether this daemon shares a queue (`--queue`).
    public var sharesQueue: Bool { link != nil }

    private static let apiKeys = ClaimIDGenerator()

    /// Copies the input to shared storage, then inserts its job: a crash or
    /// an error between the two leaves an unreferenced copy, never a job
    /// without its input (the client, who got no id, sends it again).
    public func enqueue(name: [UInt8], bytes: [UInt8], folder: TaskName?) -> QueueSubmission {
        guard let link else { return .refused(QuernError(.unsupported, "this daemon shares no queue (start it with --queue)")) }
        guard QueuedInput.isPlainFileName(name), name.first != UInt8(ascii: ".") else {
            return .refused(QuernError(.requestInvalidValue, "parameter \"name\": a file name (no /, not starting with a dot, at most 255 bytes)"))
        }
        let input = QueuedInput(name: name, folder: folder, defaultsFile: nil, size: bytes.count)
        do {
            let job = try link.storage.stageJob(key: "api-" + Self.apiKeys.next(), input: input, bytes: bytes, maxAttempts: configuration.maxAttempts)
            return .queued(id: try link.enqueueOnce(job), kind: job.kind)
        } catch {
            return .unavailable("cannot enqueue now: \(error)")
        }
    }

    /// nil when there is no such job.
    public func queuedJob(id: Int64) -> Result<QueuedJobState?, QuernError> {
        guard let link else { return .failure(QuernError(.unsupported, "this daemon shares no queue (start it with --queue)")) }
        do {
            guard let row = try link.row(id: id) else { return .success(nil) }
            var result: JSONValue?
            if let location = row.resultLocation,
               case let .bytes(bytes)? = try? FileOps.readFile(link.storage.path(ofLocation: Array("outbox/".utf8) + QueueText.decode(location)), limit: 256 << 20) {
                result = try? JSONParser.parse(bytes)
            }
            return .success(QueuedJobState(row: row, result: result))
        } catch {
            return .failure(QuernError(.unavailable, "cannot read the queue now: \(error)"))
        }
    }
}
