#if canImport(Glibc)
import Glibc
#endif

/// A pipeline with no model, for tests and for measuring the daemon's own
/// overhead. It is honest about what it is: its results are a `diagnostic`
/// object (byte, line and character counts), its model name is
/// `quern-diagnostic` and it has no weights checksum. It is only registered
/// when asked for (`--diagnostic-pipeline` / QUERN_DIAGNOSTIC_PIPELINE=1).
///
/// Marker strings in text let tests reach the error paths end to end:
/// `quern-diagnostic:fail` makes the job fail, `quern-diagnostic:hang` makes
/// it sleep (cancellably) until the daemon's timeout, and
/// `quern-diagnostic:slow-prepare-<ms>` makes its preparation block for that
/// many milliseconds (uncancellably, as a runaway decoder or tokenizer would).
public struct DiagnosticPipeline: Pipeline {
    public static let failMarker = "quern-diagnostic:fail"
    public static let hangMarker = "quern-diagnostic:hang"
    public static let slowPrepareMarker = "quern-diagnostic:slow-prepare-"

    public let identity = ModelIdentity(name: "quern-diagnostic", weightsSHA256: nil)
    public let tasks = Set(TaskName.allCases)
    public let maxBatchSize = 8
    /// Artificial time per job, to keep jobs in flight for crash tests.
    public let delay: Duration
    /// The daemon runs one lane per model; the diagnostic pipeline stands in
    /// for every model, so it takes one lane per default model folder
    /// (`PipelineCatalog`), as the real models would.
    public let lane: String

    public init(delay: Duration = .zero, lane: String = "quern-diagnostic") {
        self.delay = delay
        self.lane = lane
    }

    public func prepare(_ job: Job) throws(QuernError) -> Job {
        if let text = Self.text(of: job), let range = text.range(of: Self.slowPrepareMarker) {
            let digits = text[range.upperBound...].prefix { $0.isASCII && $0.isNumber }
            if let milliseconds = UInt32(digits.prefix(7)) { usleep(milliseconds * 1000) }
        }
        return job
    }

    public func run(_ batch: [Job], context: PipelineContext) async throws(QuernError) -> [Result<TaskOutput, QuernError>] {
        var results: [Result<TaskOutput, QuernError>] = []
        for (index, job) in batch.enumerated() {
            if delay > .zero { try await sleep(delay) }
            let text = Self.text(of: job)
            if text?.contains(Self.hangMarker) == true {
                // What it has "produced" is its count, kept by a timeout or a
                // cancellation; progress is the seconds it has slept.
                context.recordPartial(index, .diagnostic(Self.measure(job)))
                for second in 0..<3600 {
                    context.report(index, .steps(done: second, total: 3600, unit: "second"))
                    try await sleep(.seconds(1))
                }
            }
            if text?.contains(Self.failMarker) == true {
                results.append(.failure(QuernError(.pipelineFailed, "the diagnostic pipeline was asked to fail")))
                continue
            }
            results.append(.success(.diagnostic(Self.measure(job))))
        }
        return results
    }

    private func sleep(_ duration: Duration) async throws(QuernError) {
        do {
            try await Task.sleep(for: duration)
        } catch {
            throw QuernError(.cancelled, "the job was cancelled")
        }
    }

    private static func text(of job: Job) -> String? {
        switch job.request {
        case let .chat(messages, _): return messages.map(\.content).joined(separator: "\n")
        case let .complete(prompt, _): return prompt
        case let .embed(inputs, _): return inputs.joined(separator: "\n")
        case .classify, .transcribe, .train: return nil
        case let .forget(id): return id
        }
    }

    static func measure(_ job: Job) -> DiagnosticOutput {
        switch job.request {
        case let .classify(image, _, _): return DiagnosticOutput(bytes: image.count, lines: nil, characters: nil)
        case let .transcribe(audio, _): return DiagnosticOutput(bytes: audio.count, lines: nil, characters: nil)
        default:
            let text = text(of: job) ?? ""
            let lines = text.isEmpty ? 0 : text.utf8.lazy.filter { $0 == 0x0A }.count + (text.hasSuffix("\n") ? 0 : 1)
            return DiagnosticOutput(bytes: text.utf8.count, lines: lines, characters: text.unicodeScalars.count)
        }
    }
}
