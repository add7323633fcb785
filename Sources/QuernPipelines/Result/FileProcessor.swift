import Dispatch

/// What the first stage learnt about a file: its facts, and either the job to
/// hand a pipeline or the error its result will carry.
public struct InspectedInput: Sendable {
    public var facts: InputFacts
    public var task: TaskName?
    public var outcome: Result<(job: Job, pipeline: AnyPipeline), QuernError>
    public var decodeSeconds: Double
    /// Of `decodeSeconds`: computing the SHA-256.
    public var hashSeconds: Double = 0
}

/// The steps every input goes through, shared by `quern serve` and `quern run`
/// so both give the same answer for the same file.
public struct FileProcessor: Sendable {
    public let registry: PipelineRegistry
    public let inspector: InputInspector
    public let quernVersion: String
    public let timeout: Duration

    public init(registry: PipelineRegistry, inspector: InputInspector, quernVersion: String, timeout: Duration) {
        self.registry = registry
        self.inspector = inspector
        self.quernVersion = quernVersion
        self.timeout = timeout
    }

    /// Hashes and inspects bytes already read from a regular file.
    /// `route`: the inbox task folder the file came from, nil for the inbox itself.
    public func inspect(name: [UInt8], bytes: [UInt8], route: FolderRoute? = nil) -> InspectedInput {
        let start = DispatchTime.now()
        let sha256 = SHA256Hex.of(bytes)
        let hashSeconds = Self.seconds(since: start)
        let inspection = inspector.inspect(name: name, bytes: bytes, route: route)
        let facts = InputFacts(name: name, size: bytes.count, sha256: sha256, kind: inspection.kind)
        let outcome: Result<(job: Job, pipeline: AnyPipeline), QuernError>
        var task: TaskName?
        switch inspection.outcome {
        case let .failure(error):
            outcome = .failure(error)
        case let .success(job):
            task = job.request.task
            if let pipeline = registry.pipeline(for: job) {
                if let wanted = job.model, !pipeline.identity.answers(to: wanted) {
                    // Never answer with a different model than the one asked for.
                    outcome = .failure(QuernError(.requestInvalidValue, "field \"model\": \"\(wanted)\" is not loaded; task \"\(job.request.task.rawValue)\" is served by \"\(pipeline.identity.name)\" (leave \"model\" out to use it)"))
                } else {
                    outcome = .success((job, pipeline))
                }
            } else {
                outcome = .failure(registry.missingPipeline(for: job.request.task))
            }
        }
        return InspectedInput(facts: facts, task: task, outcome: outcome, decodeSeconds: Self.seconds(since: start), hashSeconds: hashSeconds)
    }

    /// A result for a file that was never read (not regular, unreadable, too big).
    public func refusal(facts: InputFacts, error: QuernError, claimID: String?, timings: Timings) -> ResultDocument {
        ResultDocument(claimID: claimID, input: facts, task: nil, outcome: .failure(error), model: nil, timings: timings, quernVersion: quernVersion)
    }

    public static func seconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }
}
