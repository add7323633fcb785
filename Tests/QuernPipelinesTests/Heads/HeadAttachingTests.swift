import Foundation
import QuernJSON
import QuernLearning
import QuernModels
import QuernPipelines
import QuernTestSupport
import Testing

/// Heads on the real models' vectors: image features (open_nsfw), the audio
/// embedding (Whisper tiny.en), sentence embeddings (MiniLM) for `embed`
/// requests and plain-text files. Each head has known weights; its verdict
/// must be softmax(W·(x − mean)/std + b) of the vector in the same result.
@Suite(.serialized) struct HeadAttachingTests {
    static func context() -> PipelineContext { PipelineContext(deadline: .now.advanced(by: .seconds(600))) }

    /// Runs `jobs` as one batch through `pipeline`.
    static func run<P: Pipeline>(_ pipeline: P, _ jobs: [Job]) async throws -> [Result<TaskOutput, QuernError>] {
        let erased = AnyPipeline(pipeline)
        let prepared = erased.prepareBatch(jobs)
        let inputs = try prepared.map { try $0.result.get() }
        return await erased.run(inputs, context: context())
    }

    /// The verdict `outputs` holds for `file`'s head matches the head's
    /// probabilities for `vector`, computed independently.
    static func expectVerdict(_ outputs: HeadOutputs?, of file: HeadFile, on vector: [Float], sourceLocation: SourceLocation = #_sourceLocation) {
        guard case let .prediction(.label(label, scores))? = outputs?[file.manifest.name] else {
            Issue.record("no verdict of \(file.manifest.name) in \(String(describing: outputs))", sourceLocation: sourceLocation)
            return
        }
        let expected = HeadFixtures.expectedProbabilities(file, vector)
        #expect(scores.map(\.0) == file.manifest.classes, sourceLocation: sourceLocation)
        for (got, want) in zip(scores.map(\.1), expected) {
            #expect(abs(got - want) < 1e-5, "\(got) vs \(want)", sourceLocation: sourceLocation)
        }
        let best = expected.indices.max { expected[$0] < expected[$1] } ?? 0
        #expect(label == file.manifest.classes[best], sourceLocation: sourceLocation)
    }

    @Test func embedRequestsGetOneVerdictPerInputAndHeadsCanBeLeftOut() async throws {
        _ = try EmbeddingTestSupport.requireMiniLM()
        let embedding = try EmbeddingPipelineTests.pipeline.get()
        let folder = try HeadFixtures.library()
        let sentiment = try HeadFixtures.logistic(name: "sentiment-en", width: 384, kind: .text, model: embedding.identity, classes: ["negative", "positive"])
        let topics = try HeadFixtures.logistic(name: "topics", width: 384, kind: .text, model: embedding.identity, classes: ["a", "b", "c"], seed: 3)
        let rating = try HeadFixtures.regression(name: "rating", width: 384, kind: .text, model: embedding.identity)
        for head in [sentiment, topics, rating] { try head.install(in: folder) }
        let library = HeadLibrary(directory: folder, featureModels: [.text: embedding.identity], logger: CollectedLog().logger)
        let pipeline = HeadAttachingPipeline(base: embedding, library: library, kind: .text)

        let results = try await Self.run(pipeline, [
            Job(request: .embed(inputs: ["What a wonderful film.", "Dreadful, boring and long."])),
            Job(request: .embed(inputs: ["No heads for me."]), heads: []),
            Job(request: .embed(inputs: ["Only the topics."]), heads: ["topics"]),
        ])
        guard case let .success(.embedding(both)) = results[0], case let .success(.embedding(none)) = results[1],
              case let .success(.embedding(one)) = results[2] else {
            Issue.record("expected three embedding results, got \(results)")
            return
        }
        let verdicts = try #require(both.heads)
        #expect(verdicts.count == 2)
        for (index, vector) in both.vectors.enumerated() {
            #expect(verdicts[index].entries.map(\.name) == ["rating", "sentiment-en", "topics"], "name order")
            Self.expectVerdict(verdicts[index], of: sentiment, on: vector)
            Self.expectVerdict(verdicts[index], of: topics, on: vector)
            guard case let .prediction(.value(value))? = verdicts[index]["rating"] else { Issue.record("no rating"); continue }
            let weights = rating.head.parameters.layers[0].weight.scalars
            let expected = zip(weights, vector).reduce(3.0) { $0 + Double($1.0) * Double($1.1) }
            #expect(abs(value - expected) < 1e-5)
        }
        #expect(none.heads == nil, "heads: [] runs none")
        #expect(one.heads?.first?.entries.map(\.name) == ["topics"])

        let json = JSONWriter.string(TaskOutput.embedding(both).json, style: .compact)
        #expect(json.contains("\"heads\":[{\"rating\":{\"value\":"))
        #expect(json.contains("\"sentiment-en\":{\"label\":\""))
    }

    @Test func anUnknownHeadFailsOnlyItsOwnJob() async throws {
        _ = try EmbeddingTestSupport.requireMiniLM()
        let embedding = try EmbeddingPipelineTests.pipeline.get()
        let folder = try HeadFixtures.library()
        try HeadFixtures.logistic(name: "sentiment-en", width: 384, kind: .text, model: embedding.identity).install(in: folder)
        let library = HeadLibrary(directory: folder, featureModels: [.text: embedding.identity], logger: CollectedLog().logger)
        let pipeline = AnyPipeline(HeadAttachingPipeline(base: embedding, library: library, kind: .text))
        let prepared = pipeline.prepareBatch([Job(request: .embed(inputs: ["x"]), heads: ["sentiment"]), Job(request: .embed(inputs: ["y"]))])
        guard case let .failure(error) = prepared[0].result else { Issue.record("an unknown head was accepted"); return }
        #expect(error.code == .requestInvalidValue)
        #expect(error.message.contains("no head \"sentiment\" is installed (installed heads: sentiment-en (text))"))
        let results = await pipeline.run([try prepared[1].result.get()], context: Self.context())
        guard case let .success(.embedding(output)) = results[0] else { Issue.record("the other job failed too"); return }
        #expect(output.heads?.first?["sentiment-en"] != nil)
    }

    @Test func plainTextFilesGetVerdictsOnTheirEmbedding() async throws {
        _ = try EmbeddingTestSupport.requireMiniLM()
        let embedding = try EmbeddingPipelineTests.pipeline.get()
        let folder = try HeadFixtures.library()
        let sentiment = try HeadFixtures.logistic(name: "sentiment-en", width: 384, kind: .text, model: embedding.identity)
        try sentiment.install(in: folder)
        let library = HeadLibrary(directory: folder, featureModels: [.text: embedding.identity], logger: CollectedLog().logger)
        let pipeline = HeadAttachingPipeline(base: EmbeddingAttachingPipeline(base: EmbeddingAttachingTests.EchoChat(), embedding: embedding),
                                             library: library, kind: .text)
        let inspector = InputInspector(limits: InputLimits())
        let plain = try inspector.inspect(name: Array("note.txt".utf8), bytes: Array("I loved every minute of it.".utf8)).outcome.get()
        let request = try inspector.inspect(name: Array("r.json".utf8), bytes: Array(#"{"task": "chat", "messages": [{"role": "user", "content": "hi"}]}"#.utf8)).outcome.get()
        let results = try await Self.run(pipeline, [plain, request])
        guard case let .success(.chat(withText)) = results[0], case let .success(.chat(chatRequest)) = results[1] else {
            Issue.record("expected two chat results, got \(results)")
            return
        }
        let vector = try #require(withText.textEmbedding?.output.vectors.first)
        Self.expectVerdict(withText.heads, of: sentiment, on: vector)
        #expect(chatRequest.heads == nil, "a chat request carries no embedding, so no verdicts")
        let json = JSONWriter.string(TaskOutput.chat(withText).json, style: .compact)
        #expect(json.contains("\"heads\":{\"sentiment-en\":{\"label\":"))
    }

    @Test func imagesGetVerdictsOnTheirPooledFeatures() async throws {
        try #require(FileManager.default.fileExists(atPath: ImageTestSupport.openNSFW), "open_nsfw is missing: run scripts/fetch-models.sh")
        let image = try ImageClassificationPipeline(path: ImageTestSupport.openNSFW, modelsDirectory: TestPaths.models)
        let folder = try HeadFixtures.library()
        let photos = try HeadFixtures.logistic(name: "photos", width: 1024, kind: .image, model: image.identity, classes: ["cat", "dog", "rocket"])
        let mlp = try HeadFixtures.logistic(name: "photos-mlp", width: 1024, kind: .image, model: image.identity, hidden: 16)
        try photos.install(in: folder)
        try mlp.install(in: folder)
        let library = HeadLibrary(directory: folder, featureModels: [.image: image.identity], logger: CollectedLog().logger)
        let pipeline = HeadAttachingPipeline(base: image, library: library, kind: .image)
        let files = ["photo-chelsea-rgb.png", "photo-rocket-rgb.png"]
        let jobs = try files.map { file in
            Job(request: .classify(image: [UInt8](try Data(contentsOf: URL(fileURLWithPath: ImageTestSupport.corpus + "/good/" + file))), topK: nil, threshold: nil))
        }
        let results = try await Self.run(pipeline, jobs)
        for result in results {
            guard case let .success(.classification(output)) = result else { Issue.record("not a classification: \(result)"); continue }
            #expect(output.features.count == 1024)
            Self.expectVerdict(output.heads, of: photos, on: output.features)
            // The MLP's verdict is the head's own forward pass on the same vector.
            guard case let .prediction(verdict)? = output.heads?["photos-mlp"] else { Issue.record("no MLP verdict"); continue }
            #expect(try verdict == mlp.head.predictions([output.features])[0])
            #expect(output.heads?.entries.map(\.name) == ["photos", "photos-mlp"])
        }
    }

    @Test func audioGetsVerdictsOnItsEmbedding() async throws {
        let corpus = try #require(WhisperTestCorpus.folder, "the speech corpus could not be generated (espeak-ng, sox)")
        let speech = try TranscriptionPipelineTests.pipeline.get()
        let folder = try HeadFixtures.library()
        let digits = try HeadFixtures.logistic(name: "digits", width: 384, kind: .audio, model: speech.identity,
                                               classes: (0...9).map(String.init))
        try digits.install(in: folder)
        let library = HeadLibrary(directory: folder, featureModels: [.audio: speech.identity], logger: CollectedLog().logger)
        let pipeline = HeadAttachingPipeline(base: speech, library: library, kind: .audio)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: corpus + "/speech20_gb_tiny.wav")))
        let results = try await Self.run(pipeline, [Job(request: .transcribe(audio: bytes))])
        guard case let .success(.transcription(output)) = results[0] else { Issue.record("not a transcription: \(results)"); return }
        Self.expectVerdict(output.heads, of: digits, on: try #require(output.embedding))
        #expect(JSONWriter.string(TaskOutput.transcription(output).json, style: .compact).contains("\"heads\":{\"digits\":{\"label\":"))
    }

    /// A head that cannot read an input's vector reports an error of its own; the result stands.
    @Test func aHeadsOwnFailureDoesNotFailTheResult() async throws {
        struct Features: Pipeline {
            let identity = ModelIdentity(name: "features", weightsSHA256: HeadFixtures.sha("f"))
            let tasks: Set<TaskName> = [.classify]
            let maxBatchSize = 4
            func run(_ batch: [Job], context: PipelineContext) async throws(QuernError) -> [Result<TaskOutput, QuernError>] {
                batch.map { job in
                    guard case let .classify(bytes, _, _) = job.request else { return .failure(QuernError(.internalError, "?")) }
                    // The first byte says how many values the vector has.
                    let width = Int(bytes.first ?? 0)
                    let vector = (0..<width).map { Float($0) * 0.1 }
                    return .success(.classification(ClassificationOutput(labels: [], features: bytes.count > 1 ? vector.map { _ in .nan } : vector)))
                }
            }
        }
        let base = Features()
        let folder = try HeadFixtures.library()
        let head = try HeadFixtures.logistic(name: "photos", width: 4, kind: .image, model: base.identity)
        try head.install(in: folder)
        let library = HeadLibrary(directory: folder, featureModels: [.image: base.identity], logger: CollectedLog().logger)
        let results = try await Self.run(HeadAttachingPipeline(base: base, library: library, kind: .image), [
            Job(request: .classify(image: [4], topK: nil, threshold: nil)),
            Job(request: .classify(image: [3], topK: nil, threshold: nil)),
            Job(request: .classify(image: [4, 0], topK: nil, threshold: nil)),
        ])
        let heads = results.map { result -> HeadOutputs? in
            if case let .success(.classification(output)) = result { return output.heads }
            return nil
        }
        Self.expectVerdict(heads[0], of: head, on: [0, 0.1, 0.2, 0.3])
        #expect(heads[1]?["photos"] == .failure(code: "learning.shape_mismatch", message: "the vector has 3 values; head photos reads 4"))
        #expect(heads[2]?["photos"] == .failure(code: "learning.non_finite", message: "the vector holds values that are not finite"))
        let json = JSONWriter.string(try results[1].get().json, style: .compact)
        #expect(json.contains("\"heads\":{\"photos\":{\"error\":{\"code\":\"learning.shape_mismatch\""))
    }
}
