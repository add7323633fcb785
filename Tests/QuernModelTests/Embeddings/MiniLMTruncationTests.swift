import Foundation
import QuernFormats
import QuernJSON
import QuernModels
import QuernPipelines
import QuernTensor
import QuernTestSupport
import Testing

/// `{"task": "embed", "input": LONG, "truncate": true}` against
/// sentence-transformers' `encode` on texts of 300–3000 word pieces, English
/// and CJK. The goldens (Goldens/minilm-truncation-goldens.json, from
/// tools/goldens/make_minilm_truncation_goldens.py) hold the recipe of each
/// text, not the text: it is rebuilt here from its seed.
@Suite(.serialized) struct MiniLMTruncationTests {
    struct Golden {
        let name: String
        let text: String
        let utf8Bytes: Int
        let pieces: Int
        let embedding: [Float]
    }

    static func goldens() throws -> [Golden] {
        let document = try EmbeddingTestSupport.json(EmbeddingTestSupport.goldens + "/minilm-truncation-goldens.json")
        let corpora = try #require(document["corpora"])
        return try #require(document["texts"]?.arrayValue).map { entry in
            var pool: [String] = []
            for corpus in entry["corpora"]?.arrayValue ?? [] {
                let name = try #require(corpus.stringValue)
                pool += try #require(corpora[name]?.arrayValue).compactMap(\.stringValue)
            }
            let seed = try #require(entry["seed"]?.intValue)
            let sentences = try #require(entry["sentences"]?.intValue)
            let text = try rebuild(pool: pool, separator: entry["separator"]?.stringValue ?? " ", seed: UInt64(seed), sentences: sentences)
            return Golden(name: entry["name"]?.stringValue ?? "?", text: text, utf8Bytes: entry["utf8_bytes"]?.intValue ?? -1,
                          pieces: entry["pieces"]?.intValue ?? -1, embedding: EmbeddingTestSupport.floats(entry["embedding"]))
        }
    }

    /// The generator's recipe: sentence i is pool[next() % pool.count] of a
    /// SplitMix64 stream (QuernTensor's SeededGenerator is that algorithm).
    static func rebuild(pool: [String], separator: String, seed: UInt64, sentences: Int) throws -> String {
        try #require(!pool.isEmpty)
        var generator = SeededGenerator(seed: seed)
        return (0..<sentences).map { _ in pool[Int(generator.next() % UInt64(pool.count))] }.joined(separator: separator)
    }

    static let pipeline: Result<EmbeddingPipeline, QuernError> = Result { () throws(QuernError) in
        try EmbeddingPipeline(directory: EmbeddingTestSupport.miniLM)
    }

    func pipeline() throws -> EmbeddingPipeline {
        _ = try EmbeddingTestSupport.requireMiniLM()
        return try Self.pipeline.get()
    }

    /// One request for all the texts, through the request parser and the pipeline.
    func embed(_ texts: [String], truncate: Bool?) async throws -> EmbeddingOutput {
        var members: [(key: String, value: JSONValue)] = [("task", .string("embed")), ("input", .array(texts.map(JSONValue.string)))]
        if let truncate { members.append(("truncate", .bool(truncate))) }
        let job = try RequestParser.parse(.object(members))
        let pipeline = AnyPipeline(try pipeline())
        let results = await pipeline.run([try pipeline.prepare(job)], context: PipelineContext(deadline: .now.advanced(by: .seconds(600))))
        guard case let .success(.embedding(output)) = results.first else {
            Issue.record("expected an embedding result, got \(results)")
            throw MissingResult()
        }
        return output
    }

    struct MissingResult: Error {}

    @Test func textsRebuildAsTheGeneratorMadeThem() throws {
        _ = try pipeline()
        let embedder = try SentenceEmbedder(directory: EmbeddingTestSupport.miniLM)
        let goldens = try Self.goldens()
        #expect(goldens.count >= 6)
        for golden in goldens {
            #expect(golden.text.utf8.count == golden.utf8Bytes, "\(golden.name): the rebuilt text differs from the generator's")
            #expect(embedder.tokenizer.encode(golden.text).count == golden.pieces, "\(golden.name): word pieces")
            #expect((300...3100).contains(golden.pieces), "\(golden.name): \(golden.pieces) pieces")
        }
        #expect(goldens.contains { $0.name.hasPrefix("english") } && goldens.contains { $0.name.hasPrefix("cjk") })
    }

    @Test func truncatedRequestMatchesSentenceTransformers() async throws {
        let goldens = try Self.goldens()
        let output = try await embed(goldens.map(\.text), truncate: true)
        #expect(output.vectors.count == goldens.count)
        var lowest = 1.0
        for (index, golden) in goldens.enumerated() {
            let cosine = EmbeddingTestSupport.cosine(output.vectors[index], golden.embedding)
            lowest = min(lowest, cosine)
            print("all-MiniLM-L6-v2 truncated, \(golden.name) (\(golden.pieces) pieces): cosine to sentence-transformers \(cosine)")
            #expect(cosine >= 0.99999, "\(golden.name): cosine \(cosine)")
            // The model's modules.json ends in Normalize, as the reference's pipeline does.
            let norm = output.vectors[index].reduce(0) { $0 + $1 * $1 }.squareRoot()
            #expect(abs(norm - 1) < 1e-5, "\(golden.name): norm \(norm)")
            let input = output.inputs[index]
            #expect(input.windows.isEmpty && input.tokens == golden.pieces + 2)
            #expect(input.truncation == .init(piecesUsed: 254, piecesTotal: golden.pieces), "\(golden.name)")
        }
        print("all-MiniLM-L6-v2 truncated: \(goldens.count) texts, lowest cosine to sentence-transformers \(lowest)")
        #expect(output.promptTokens == 256 * goldens.count)  // only what reached the model

        let json = String(decoding: JSONWriter.bytes(TaskOutput.embedding(output).json, style: .compact), as: UTF8.self)
        #expect(json.contains("\"truncated\":{\"pieces_used\":254,\"pieces_total\":\(goldens[0].pieces)}"))
        #expect(!json.contains("\"windows\""))
    }

    @Test func windowsStayTheDefault() async throws {
        let goldens = try Self.goldens()
        let texts = Array(goldens.prefix(2).map(\.text))
        let windowed = try await embed(texts, truncate: nil)
        let explicit = try await embed(texts, truncate: false)
        #expect(windowed == explicit)
        for (index, golden) in goldens.prefix(2).enumerated() {
            let input = windowed.inputs[index]
            #expect(input.truncation == nil && input.windows.count == (golden.pieces + 253) / 254)
            // Window 0 is the truncated vector; the text's vector is the windows' mean.
            #expect(EmbeddingTestSupport.cosine(try #require(input.windows.first?.vector), golden.embedding) >= 0.99999)
            print("all-MiniLM-L6-v2 windows, \(golden.name): mean of windows vs truncated, cosine \(EmbeddingTestSupport.cosine(windowed.vectors[index], golden.embedding))")
        }
    }

    @Test func textsThatFitAreNotMarkedTruncated() async throws {
        // "word" is one piece: 254 pieces fill one model input exactly, 255 do not.
        let fits = Array(repeating: "word", count: 254).joined(separator: " ")
        let over = fits + " word"
        let truncated = try await embed([fits, over, "short"], truncate: true)
        let windowed = try await embed([fits, over, "short"], truncate: false)
        #expect(truncated.inputs.map(\.truncation) == [nil, .init(piecesUsed: 254, piecesTotal: 255), nil])
        #expect(truncated.inputs.map(\.tokens) == [256, 257, 3] && truncated.inputs.allSatisfy(\.windows.isEmpty))
        // Where nothing is cut, truncating changes nothing.
        #expect(EmbeddingTestSupport.largestDifference(truncated.vectors[0], windowed.vectors[0]) <= 1e-5)
        #expect(EmbeddingTestSupport.largestDifference(truncated.vectors[2], windowed.vectors[2]) <= 1e-5)
        #expect(EmbeddingTestSupport.largestDifference(truncated.vectors[1], try #require(windowed.inputs[1].windows.first?.vector)) <= 1e-5)
    }
}
