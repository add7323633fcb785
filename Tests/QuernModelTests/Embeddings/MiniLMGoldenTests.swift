import Foundation
import QuernFormats
import QuernJSON
import QuernModels
import QuernTensor
import QuernTestSupport
import QuernTokenizers
import Testing

/// all-MiniLM-L6-v2 against sentence-transformers on PyTorch: the goldens
/// in Goldens/minilm-goldens.json come from tools/goldens/make_minilm_goldens.py.
@Suite(.serialized) struct MiniLMGoldenTests {
    struct Golden {
        let text: String
        let ids: [Int]
        let embedding: [Float]
        let windows: [[Float]]
        let mean: [Float]?
    }

    static func goldens() throws -> [Golden] {
        let document = try EmbeddingTestSupport.json(EmbeddingTestSupport.goldens + "/minilm-goldens.json")
        return try #require(document["texts"]?.arrayValue).map { entry in
            Golden(text: entry["text"]?.stringValue ?? "", ids: EmbeddingTestSupport.ints(entry["ids"]),
                   embedding: try halfFloats(entry["embedding"]), windows: try (entry["windows"]?.arrayValue ?? []).map(halfFloats),
                   mean: try entry["mean"].map(halfFloats))
        }
    }

    static func halfFloats(_ node: JSONValue?) throws -> [Float] {
        let text = try #require(node?.stringValue)
        let data = try #require(Data(base64Encoded: text))
        return stride(from: 0, to: data.count - 1, by: 2).map { i in
            Float(Float16(bitPattern: UInt16(data[data.startIndex + i]) | UInt16(data[data.startIndex + i + 1]) << 8))
        }
    }

    static let embedder: Result<SentenceEmbedder, any Error> = Result {
        let folder = try EmbeddingTestSupport.requireMiniLM()
        return try SentenceEmbedder(directory: folder)
    }

    func embedder() throws -> SentenceEmbedder {
        _ = try EmbeddingTestSupport.requireMiniLM()
        return try Self.embedder.get()
    }

    @Test func configurationComesFromTheSentenceTransformersFolder() throws {
        let embedder = try embedder()
        #expect(embedder.maxSequenceLength == 256)  // sentence_bert_config.json, not tokenizer.json's 128
        #expect(embedder.pooling == SentencePooling(mode: .mean, normalize: true))
        #expect(embedder.dimensions == 384)
        #expect(embedder.model.config.layerNormEpsilon == 1e-12)
    }

    @Test func tokenIDsEqualTheReference() throws {
        let embedder = try embedder()
        let goldens = try Self.goldens()
        #expect(goldens.count >= 40)
        var mismatched: [String] = []
        for golden in goldens {
            let ids = embedder.tokenizer.addingSpecialTokens(embedder.tokenizer.encode(golden.text))
            if ids != golden.ids {
                let tokens = ids.map { embedder.tokenizer.token(for: $0) ?? "?" }
                mismatched.append("\(golden.text.debugDescription.prefix(60)): got \(ids.prefix(40)) \(tokens.prefix(40)), want \(golden.ids.prefix(40))")
            }
        }
        print("all-MiniLM-L6-v2 tokenizer: \(goldens.count - mismatched.count)/\(goldens.count) texts give the reference ids")
        #expect(mismatched.isEmpty, "\(mismatched.joined(separator: "\n"))")
    }

    @Test func embeddingsMatchSentenceTransformers() throws {
        let embedder = try embedder()
        let goldens = try Self.goldens()
        let results = try embedder.embed(goldens.map(\.text))
        var lowest = 1.0
        var lowestText = ""
        for (golden, result) in zip(goldens, results) {
            let windowsExpected = max(1, golden.windows.count)
            #expect(result.windows.count == windowsExpected, "\(golden.text.prefix(40)): \(result.windows.count) windows")
            #expect(result.pieceCount == golden.ids.count - 2)
            // Window 0 is what sentence-transformers embeds (it truncates).
            var checks = [(result.windows.first?.vector ?? [], golden.embedding)]
            if golden.windows.count > 1 {
                checks += zip(result.windows.map(\.vector), golden.windows).map { ($0, $1) }
                checks.append((result.vector, try #require(golden.mean)))
            } else {
                checks.append((result.vector, golden.embedding))
            }
            for (got, want) in checks {
                let cosine = EmbeddingTestSupport.cosine(got, want)
                if cosine < lowest {
                    lowest = cosine
                    lowestText = golden.text
                }
                #expect(cosine >= 0.99999, "\(golden.text.debugDescription.prefix(60)): cosine \(cosine)")
            }
        }
        print("all-MiniLM-L6-v2 embeddings: \(goldens.count) texts, lowest cosine to sentence-transformers \(lowest) (\(lowestText.debugDescription.prefix(40)))")
    }

    /// The linear layers in bfloat16 (docs/precision.md): every text's
    /// embedding (window 0, as sentence-transformers embeds it) within the
    /// published cosine of the reference.
    @Test func bfloat16StaysWithinItsPublishedFidelity() throws {
        let embedder = try SentenceEmbedder(directory: try EmbeddingTestSupport.requireMiniLM(), precision: .bfloat16)
        #expect(embedder.model.precision == .bfloat16)
        let goldens = try Self.goldens()
        var lowest = 1.0
        for (golden, result) in zip(goldens, try embedder.embed(goldens.map(\.text))) {
            let cosine = EmbeddingTestSupport.cosine(result.windows.first?.vector ?? [], golden.embedding)
            lowest = min(lowest, cosine)
            #expect(cosine >= 0.9995, "\(golden.text.debugDescription.prefix(60)): bfloat16 cosine \(cosine)")
        }
        print("all-MiniLM-L6-v2 bfloat16: \(goldens.count) texts, lowest cosine to sentence-transformers \(lowest)")
    }

    @Test func batchedEqualsOneByOne() throws {
        let embedder = try embedder()
        let texts = try Self.goldens().map(\.text).prefix(24)
        let batched = try embedder.embed(Array(texts), batchSize: 32)
        var worst: Float = 0
        for (text, together) in zip(texts, batched) {
            let alone = try embedder.embed([text], batchSize: 1)[0]
            worst = max(worst, EmbeddingTestSupport.largestDifference(alone.vector, together.vector))
        }
        print("all-MiniLM-L6-v2 batch of \(texts.count) vs one by one: max |Δ| = \(worst)")
        #expect(worst <= 1e-5)
    }
}
