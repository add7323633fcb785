import Foundation
import QuernJSON
import QuernModels
import QuernPipelines
import QuernTestSupport
import Testing

/// The `embed` task end to end inside the pipeline layer: jobs batched
/// together, one vector per input, windows for long texts, the JSON shape.
@Suite(.serialized) struct EmbeddingPipelineTests {
    static let pipeline: Result<EmbeddingPipeline, QuernError> = Result { () throws(QuernError) in
        try EmbeddingPipeline(directory: EmbeddingTestSupport.miniLM)
    }

    func pipeline() throws -> EmbeddingPipeline {
        _ = try EmbeddingTestSupport.requireMiniLM()
        return try Self.pipeline.get()
    }

    func context() -> PipelineContext { PipelineContext(deadline: .now.advanced(by: .seconds(600))) }

    @Test func batchedJobsGetOneVectorPerInput() async throws {
        let pipeline = try pipeline()
        #expect(pipeline.identity.name == "all-minilm-l6-v2")
        #expect(pipeline.identity.weightsSHA256?.count == 64)
        let long = String(repeating: "The quick brown fox jumps over the lazy dog. ", count: 60)
        let jobs = [
            Job(request: .embed(inputs: ["A man is playing a guitar."])),
            Job(request: .embed(inputs: ["first", "", long]), model: "all-minilm-l6-v2"),
        ]
        let erased = AnyPipeline(pipeline)
        let prepared = try jobs.map { job throws(QuernError) in try erased.prepare(job) }
        let results = await erased.run(prepared, context: context())
        #expect(results.count == 2)
        guard case let .success(.embedding(first)) = results[0], case let .success(.embedding(second)) = results[1] else {
            Issue.record("expected two embedding results, got \(results)")
            return
        }
        #expect(first.vectors.count == 1 && second.vectors.count == 3)
        #expect(second.vectors.allSatisfy { $0.count == 384 })
        #expect(first.maxTokens == 256)
        #expect(second.inputs[1].tokens == 2 && second.inputs[1].windows.isEmpty)  // "" is [CLS] [SEP]
        let longInput = second.inputs[2]
        #expect(longInput.tokens > 256 && longInput.windows.count == (longInput.tokens - 2 + 253) / 254)
        #expect(longInput.windows.allSatisfy { $0.tokens <= 256 })

        // The same vectors as the model alone, one text at a time.
        let embedder = try SentenceEmbedder(directory: EmbeddingTestSupport.miniLM)
        for (text, vector) in zip(["first", "", long], second.vectors) {
            let alone = try embedder.embed([text], batchSize: 1)[0].vector
            #expect(EmbeddingTestSupport.largestDifference(alone, vector) <= 1e-5)
        }
        let norm = second.vectors[2].reduce(0) { $0 + $1 * $1 }.squareRoot()
        #expect(abs(norm - 1) < 1e-5)  // the mean of the windows is renormalised

        let json = String(decoding: JSONWriter.bytes(TaskOutput.embedding(second).json, style: .compact), as: UTF8.self)
        #expect(json.contains("\"dimensions\":384") && json.contains("\"max_tokens\":256") && json.contains("\"windows\":[{\"pieces\":[0,254]"))
    }

    @Test func refusesAnotherModelName() throws {
        let pipeline = try pipeline()
        #expect(throws: QuernError.self) { try pipeline.prepare(Job(request: .embed(inputs: ["x"]), model: "text-embedding-3-small")) }
    }
}

/// Plain-text files get their text's embedding beside the chat answer.
@Suite(.serialized) struct EmbeddingAttachingTests {
    /// A stand-in for the language model: answers "ok".
    struct EchoChat: Pipeline {
        let identity = ModelIdentity(name: "echo", weightsSHA256: nil)
        let tasks: Set<TaskName> = [.chat, .complete]
        let maxBatchSize = 4
        func run(_ batch: [Job], context: PipelineContext) async throws(QuernError) -> [Result<TaskOutput, QuernError>] {
            batch.map { _ in .success(.chat(ChatOutput(content: "ok", finishReason: .stop, usage: TokenUsage(promptTokens: 1, completionTokens: 1)))) }
        }
    }

    @Test func plainTextGetsAnEmbeddingRequestsDoNot() async throws {
        _ = try EmbeddingTestSupport.requireMiniLM()
        let embedding = try EmbeddingPipelineTests.pipeline.get()
        let pipeline = AnyPipeline(EmbeddingAttachingPipeline(base: EchoChat(), embedding: embedding))
        let inspector = InputInspector(limits: InputLimits())
        let text = "A plain note about cats."
        let plain = try inspector.inspect(name: Array("note.txt".utf8), bytes: Array(text.utf8)).outcome.get()
        let request = try inspector.inspect(name: Array("r.json".utf8), bytes: Array("{\"task\": \"chat\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}".utf8)).outcome.get()
        #expect(plain.embedsText && !request.embedsText)

        let results = await pipeline.run([try pipeline.prepare(plain), try pipeline.prepare(request)],
                                         context: PipelineContext(deadline: .now.advanced(by: .seconds(600))))
        guard case let .success(.chat(withEmbedding)) = results[0], case let .success(.chat(without)) = results[1] else {
            Issue.record("expected two chat results, got \(results)")
            return
        }
        #expect(without.textEmbedding == nil && withEmbedding.content == "ok")
        let attached = try #require(withEmbedding.textEmbedding)
        #expect(attached.model.name == "all-minilm-l6-v2")
        let alone = try SentenceEmbedder(directory: EmbeddingTestSupport.miniLM).embed([text])[0].vector
        #expect(EmbeddingTestSupport.largestDifference(try #require(attached.output.vectors.first), alone) <= 1e-5)
        let json = String(decoding: JSONWriter.bytes(TaskOutput.chat(withEmbedding).json, style: .compact), as: UTF8.self)
        #expect(json.contains("\"embedding\":{\"model\":\"all-minilm-l6-v2\",\"sha256\":\""))
    }
}
