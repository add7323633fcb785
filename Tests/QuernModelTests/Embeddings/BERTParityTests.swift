import Foundation
import QuernFormats
import QuernJSON
import QuernModels
import QuernTensor
import QuernTestSupport
import Testing

/// BERT against PyTorch on ../shared/fixtures/bert-tiny (a random
/// `BertModel`, batch of two right-padded to 12 tokens).
@Suite struct BERTParityTests {
    let folder = TestPaths.fixtures + "/bert-tiny"

    func load() throws -> (BERTModel, JSONValue) {
        let config = try BERTModel.Config.load(path: folder + "/config.json")
        let checkpoint = try SafetensorsCheckpoint(directory: folder)
        let model = try BERTModel(config: config, weights: WeightBinder(file: checkpoint.path, tensors: checkpoint.tensors))
        return (model, try EmbeddingTestSupport.json(folder + "/expected.json"))
    }

    @Test func hiddenStatesPoolerAndPoolingMatchPyTorch() throws {
        let (model, expected) = try load()
        let inputs = expected["inputs"]
        let ids = EmbeddingTestSupport.ints(inputs?["input_ids"]?.arrayValue.map { .array($0.flatMap { $0.arrayValue ?? [] }) })
        let types = EmbeddingTestSupport.ints(inputs?["token_type_ids"]?.arrayValue.map { .array($0.flatMap { $0.arrayValue ?? [] }) })
        let mask = EmbeddingTestSupport.ints(inputs?["attention_mask"]?.arrayValue.map { .array($0.flatMap { $0.arrayValue ?? [] }) })
        let lengths = EmbeddingTestSupport.ints(inputs?["lengths"])
        #expect(ids.count == 24 && lengths == [12, 7])

        var captured: [String: [Float]] = [:]
        let hidden = try model.forward(ids: ids, tokenTypes: types, mask: mask, count: 2, width: 12) { name, tensor in
            captured[name] = tensor.scalars
        }
        let outputs = expected["outputs"]
        let states = outputs?["hidden_states"]
        let pairs: [(String, [Float], [Float]?)] = [
            ("embeddings", EmbeddingTestSupport.floats(states?["embeddings output (after LayerNorm)"]), captured["embeddings output"]),
            ("layer 0", EmbeddingTestSupport.floats(states?["encoder.layer.0 output"]), captured["encoder.layer.0 output"]),
            ("layer 1", EmbeddingTestSupport.floats(states?["encoder.layer.1 output"]), captured["encoder.layer.1 output"]),
            ("last_hidden_state", EmbeddingTestSupport.floats(outputs?["last_hidden_state"]), hidden.scalars),
        ]
        for (name, want, got) in pairs {
            let difference = EmbeddingTestSupport.largestDifference(try #require(got), want)
            print("bert-tiny \(name): max |Δ| = \(difference)")
            #expect(!want.isEmpty && difference <= 1e-4, "\(name) differs by \(difference)")
        }

        let pooler = try #require(model.poolerOutput(hidden)).scalars
        let poolerDifference = EmbeddingTestSupport.largestDifference(pooler, EmbeddingTestSupport.floats(outputs?["pooler_output"]))
        print("bert-tiny pooler_output: max |Δ| = \(poolerDifference)")
        #expect(poolerDifference <= 1e-4)

        for (normalize, key) in [(false, "mean_pooled"), (true, "sentence_embedding")] {
            let pooled = SentencePooling(mode: .mean, normalize: normalize).pool(hidden, lengths: lengths).flatMap { $0 }
            let difference = EmbeddingTestSupport.largestDifference(pooled, EmbeddingTestSupport.floats(outputs?[key]))
            print("bert-tiny \(key): max |Δ| = \(difference)")
            #expect(difference <= 1e-5, "\(key) differs by \(difference)")
        }
    }

    @Test func paddedBatchEqualsOneByOne() throws {
        let (model, expected) = try load()
        let rows = try #require(expected["inputs"]?["input_ids"]?.arrayValue).map { EmbeddingTestSupport.ints($0) }
        let types = try #require(expected["inputs"]?["token_type_ids"]?.arrayValue).map { EmbeddingTestSupport.ints($0) }
        let lengths = EmbeddingTestSupport.ints(expected["inputs"]?["lengths"])
        let mask = lengths.flatMap { length in (0..<12).map { $0 < length ? 1 : 0 } }
        let batch = try model.forward(ids: rows.flatMap { $0 }, tokenTypes: types.flatMap { $0 }, mask: mask, count: 2, width: 12)
        var worst: Float = 0
        for (row, length) in lengths.enumerated() {
            let alone = try model.forward(ids: Array(rows[row].prefix(length)), tokenTypes: Array(types[row].prefix(length)),
                                          count: 1, width: length)
            let padded = batch.row(row).rows(0..<length).scalars
            worst = max(worst, EmbeddingTestSupport.largestDifference(padded, alone.scalars))
        }
        print("bert-tiny padded batch vs one by one: max |Δ| = \(worst)")
        #expect(worst <= 1e-5)
    }

    @Test func rejectsTokensOutsideTheVocabulary() throws {
        let (model, _) = try load()
        #expect(throws: ModelError.self) { try model.forward(ids: [2, 200, 3], count: 1, width: 3) }
        #expect(throws: ModelError.self) { try model.forward(ids: [Int](repeating: 5, count: 65), count: 1, width: 65) }
    }
}
