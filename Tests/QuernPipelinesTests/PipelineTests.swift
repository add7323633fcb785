import Foundation
import QuernJSON
import QuernLearning
import QuernModels
import QuernPipelines
import QuernTestSupport
import Testing

/// A pipeline as a real model would plug in: its own prepared type, batching.
private struct UppercasePipeline: Pipeline {
    struct Tokens: Sendable { var text: String }

    let identity = ModelIdentity(name: "uppercase", weightsSHA256: String(repeating: "ab", count: 32))
    let tasks: Set<TaskName> = [.complete]
    let maxBatchSize = 4

    func prepare(_ job: Job) throws(QuernError) -> Tokens {
        guard case let .complete(prompt, _) = job.request else { throw QuernError(.unsupported, "complete only") }
        if prompt.isEmpty { throw QuernError(.inputEmpty, "empty prompt") }
        return Tokens(text: prompt)
    }

    func run(_ batch: [Tokens], context: PipelineContext) async throws(QuernError) -> [Result<TaskOutput, QuernError>] {
        batch.map { .success(.completion(CompletionOutput(text: $0.text.uppercased(), finishReason: .stop, usage: TokenUsage(promptTokens: 1, completionTokens: 1)))) }
    }
}

/// Never finishes on its own; notices cancellation.
private struct StuckPipeline: Pipeline {
    let identity = ModelIdentity(name: "stuck", weightsSHA256: nil)
    let tasks: Set<TaskName> = [.embed]

    func run(_ batch: [Job], context: PipelineContext) async throws(QuernError) -> [Result<TaskOutput, QuernError>] {
        while true {
            try context.checkCancellation()
            try? await Task.sleep(for: .milliseconds(5))
        }
    }
}

@Suite struct PipelineTests {
    @Test func registryRoutesTasksAndLeavesOthersUnsupported() {
        var registry = PipelineRegistry()
        registry.register(UppercasePipeline())
        #expect(registry.pipeline(for: .complete)?.identity.name == "uppercase")
        #expect(registry.pipeline(for: .chat) == nil)
        #expect(registry.servedTasks == [.complete])
        #expect(PipelineRegistry.unsupported(.chat).code == .unsupported)
        #expect(registry.missingPipeline(for: .chat).code == .unsupported)
    }

    @Test func aMissingModelSaysWhyItsTasksAreUnavailable() {
        var registry = PipelineRegistry()
        registry.register(UppercasePipeline())
        registry.markUnavailable([.chat, .complete], reason: "model file models/x.gguf is missing; run scripts/fetch-models.sh")
        #expect(registry.pipeline(for: .complete)?.identity.name == "uppercase", "a registered pipeline wins")
        let error = registry.missingPipeline(for: .chat)
        #expect(error.code == .unsupported)
        #expect(error.message.contains("fetch-models.sh"))
    }

    @Test func aRequestedModelMustBeTheOneServingTheTask() {
        var registry = PipelineRegistry()
        registry.register(UppercasePipeline())
        let processor = FileProcessor(registry: registry, inspector: InputInspector(limits: InputLimits()), quernVersion: "test", timeout: .seconds(1))
        let wrong = processor.inspect(name: Array("r.json".utf8), bytes: Array(#"{"task": "complete", "prompt": "x", "model": "gpt-9"}"#.utf8))
        if case let .failure(error) = wrong.outcome {
            #expect(error.code == .requestInvalidValue)
            #expect(error.message.contains("\"gpt-9\" is not loaded"))
        } else {
            Issue.record("a request for an unloaded model was accepted")
        }
        let right = processor.inspect(name: Array("r.json".utf8), bytes: Array(#"{"task": "complete", "prompt": "x", "model": "uppercase"}"#.utf8))
        #expect((try? right.outcome.get())?.pipeline.identity.name == "uppercase")
        #expect(right.facts.sha256?.count == 64)
        #expect(right.task == .complete)
    }

    @Test func erasedPipelinePreparesAndRunsABatch() async throws {
        let pipeline = AnyPipeline(UppercasePipeline())
        let prepared = try ["a", "b"].map { (prompt: String) throws -> any Sendable in
            try pipeline.prepare(Job(request: .complete(prompt: prompt, sampling: SamplingParameters())))
        }
        let results = await pipeline.run(prepared, context: PipelineContext(deadline: .now + .seconds(5)))
        #expect(results.map { (try? $0.get()) } == [
            .completion(CompletionOutput(text: "A", finishReason: .stop, usage: TokenUsage(promptTokens: 1, completionTokens: 1))),
            .completion(CompletionOutput(text: "B", finishReason: .stop, usage: TokenUsage(promptTokens: 1, completionTokens: 1))),
        ])
        #expect(throws: QuernError.self) { try pipeline.prepare(Job(request: .complete(prompt: "", sampling: SamplingParameters()))) }
    }

    @Test func executionTimesOutThenStopsOnCancellation() {
        let execution = BatchExecution(pipeline: AnyPipeline(StuckPipeline()), batch: [Job(request: .embed(inputs: ["x"]))], timeout: .milliseconds(50))
        #expect(execution.wait(timeout: .milliseconds(100)) == nil)
        execution.cancel()
        #expect(execution.waitUntilFinished(timeout: .seconds(5)))
    }

    @Test func diagnosticPipelineCountsAndFailsOnRequest() async {
        let pipeline = AnyPipeline(DiagnosticPipeline())
        let jobs: [any Sendable] = [
            Job(request: .complete(prompt: "one\ntwo\n", sampling: SamplingParameters())),
            Job(request: .complete(prompt: "please \(DiagnosticPipeline.failMarker)", sampling: SamplingParameters())),
        ]
        let results = await pipeline.run(jobs, context: PipelineContext(deadline: .now + .seconds(5)))
        #expect((try? results[0].get()) == .diagnostic(DiagnosticOutput(bytes: 8, lines: 2, characters: 8)))
        if case let .failure(error) = results[1] { #expect(error.code == .pipelineFailed) } else { Issue.record("expected a failure") }
    }

    static let verdicts = HeadOutputs([
        ("digits", .prediction(.label("3", scores: [("3", 0.75), ("8", 0.25)]))),
        ("rating", .prediction(.value(-4.5))),
        ("sentiment-en", .failure(code: "learning.shape_mismatch", message: "the vector has 3 values; head sentiment-en reads 384")),
    ])

    /// Every output shape a real pipeline can produce validates against the committed schema.
    @Test func everyOutputShapeMatchesTheSchema() throws {
        let scratch = try Scratch()
        let outputs: [(TaskName, TaskOutput)] = [
            (.chat, .chat(ChatOutput(content: "Hello!", finishReason: .stop, usage: TokenUsage(promptTokens: 12, completionTokens: 3)))),
            (.complete, .completion(CompletionOutput(text: " upon a time", finishReason: .length, usage: TokenUsage(promptTokens: 1, completionTokens: 64)))),
            (.embed, .embedding(EmbeddingOutput(vectors: [[0.25, -0.5, 1e-7], [0, 1, .nan]], promptTokens: 9))),
            // A long text as windows, and one truncated on request.
            (.embed, .embedding(EmbeddingOutput(
                vectors: [[0.6, 0.8]], promptTokens: 7,
                inputs: [.init(tokens: 7, windows: [.init(pieces: 0..<3, tokens: 5, vector: [1, 0]), .init(pieces: 3..<5, tokens: 4, vector: [0, 1])])],
                maxTokens: 5))),
            (.embed, .embedding(EmbeddingOutput(
                vectors: [[1, 0]], promptTokens: 5, inputs: [.init(tokens: 7, windows: [], truncation: .init(piecesUsed: 3, piecesTotal: 5))],
                maxTokens: 5))),
            (.classify, .classification(ClassificationOutput(labels: [.init(index: 1, label: "nsfw", score: 0.93), .init(index: 0, label: "sfw", score: 0.07)], features: [0.1, 0.2]))),
            (.classify, .classification(ClassificationOutput(
                labels: [.init(index: 0, label: "sfw", score: 0.99)], features: [0.5],
                image: .init(width: 37, height: 29, colorType: "palette", bitDepth: 4, interlaced: true, transparency: true),
                preprocessing: (name: "open_nsfw", steps: ["palette expanded to RGB", "channels BGR"])))),
            (.transcribe, .transcription(TranscriptionOutput(text: "Hi there.", segments: [.init(start: 0, end: 1.28, text: "Hi there.")], language: "en"))),
            (.embed, .diagnostic(DiagnosticOutput(bytes: 3, lines: nil, characters: nil))),
            // Heads' verdicts: a class with its scores, a value, a head's own error.
            (.classify, .classification(ClassificationOutput(labels: [.init(index: 0, label: "sfw", score: 0.9)], features: [0.5], heads: Self.verdicts))),
            (.transcribe, .transcription(TranscriptionOutput(text: "Three.", segments: [], language: "en", embedding: [0.1], heads: Self.verdicts))),
            (.embed, .embedding(EmbeddingOutput(vectors: [[1, 0], [0, 1]], promptTokens: 4, heads: [Self.verdicts, HeadOutputs([])]))),
            (.chat, .chat(ChatOutput(content: "ok", finishReason: .stop, usage: TokenUsage(promptTokens: 1, completionTokens: 1), heads: Self.verdicts))),
            (.complete, .completion(CompletionOutput(text: "ok", finishReason: .stop, usage: TokenUsage(promptTokens: 1, completionTokens: 1), heads: Self.verdicts))),
        ]
        let facts = InputFacts(name: [0x66, 0xFF, 0x0A], size: 3, sha256: String(repeating: "0", count: 64), kind: .text)
        for (index, (task, output)) in outputs.enumerated() {
            let document = ResultDocument(
                claimID: "18ec9479457fa1d2-000001", input: facts, task: task, outcome: .success(output),
                model: ModelIdentity(name: "m", weightsSHA256: String(repeating: "f", count: 64)), timings: Timings(), quernVersion: "0.1.0")
            try Data(JSONWriter.bytes(document.json, style: .pretty)).write(to: scratch.outbox.appendingPathComponent("ok\(index).json"))
        }
        for code in ErrorCode.allCases {
            let document = ResultDocument(
                claimID: nil, input: InputFacts(name: Array("x".utf8), size: nil, sha256: nil, kind: .unknown), task: nil,
                outcome: .failure(QuernError(code, "why")), model: nil, timings: Timings(), quernVersion: "0.1.0")
            try Data(JSONWriter.bytes(document.json, style: .compact)).write(to: scratch.outbox.appendingPathComponent("error-\(code.rawValue).json"))
        }
        // Timeout and cancelled results, with and without the partial output they keep.
        let partials: [(ErrorCode, TaskName, TaskOutput?)] = [
            (.timeout, .chat, .chat(ChatOutput(content: "Once upon", finishReason: .length, usage: TokenUsage(promptTokens: 5, completionTokens: 2)))),
            (.cancelled, .complete, .completion(CompletionOutput(text: " a time", finishReason: .length, usage: TokenUsage(promptTokens: 1, completionTokens: 3)))),
            (.timeout, .transcribe, .transcription(TranscriptionOutput(text: "Hi.", segments: [.init(start: 0, end: 1, text: "Hi.", averageLogProbability: -0.2, noSpeechProbability: 0.01, compressionRatio: 1.1)], language: "en", durationSeconds: 300))),
            (.cancelled, .embed, .diagnostic(DiagnosticOutput(bytes: 3, lines: 1, characters: 3))),
            (.cancelled, .classify, nil),
        ]
        for (index, (code, task, partial)) in partials.enumerated() {
            let document = ResultDocument(
                claimID: "18ec9479457fa1d2-000002", input: facts, task: task, outcome: .failure(QuernError(code, "stopped")),
                model: ModelIdentity(name: "m", weightsSHA256: nil), timings: Timings(), quernVersion: "0.1.0", partial: partial)
            #expect(document.status == code.rawValue)
            try Data(JSONWriter.bytes(document.json, style: .pretty)).write(to: scratch.outbox.appendingPathComponent("partial\(index).json"))
        }
        let problems = try SchemaValidator.problems(in: [scratch.outbox.path])
        #expect(problems == nil, "\(problems ?? "")")
        #expect(try scratch.result("partial0.json")["status"] as? String == "timeout")
        #expect(((try scratch.result("partial0.json")["partial"] as? [String: Any])?["message"] as? [String: Any])?["content"] as? String == "Once upon")
        #expect(try scratch.result("partial4.json")["partial"] == nil)
        // An error other than timeout/cancelled never carries partial output.
        let plain = ResultDocument(claimID: nil, input: facts, task: .chat, outcome: .failure(QuernError(.pipelineFailed, "x")), model: nil,
                                   timings: Timings(), quernVersion: "0.1.0", partial: .diagnostic(DiagnosticOutput(bytes: 1, lines: 1, characters: 1)))
        #expect(plain.status == "error" && plain.json["partial"] == nil)
        let nameHex = try scratch.result("ok0.json")["input"] as? [String: Any]
        #expect(nameHex?["name_hex"] as? String == "66ff0a")
    }
}
