import Foundation
import QuernModels
import QuernTensor
import QuernTestSupport
import Testing

/// A tokenizer that can produce ids the model has no embedding row for is
/// refused when the model loads, naming the file and the id — not when a
/// request first hits that token.
@Suite struct VocabularyCheckTests {
    static func refusal(_ load: () throws -> Void) -> ModelError? {
        do {
            try load()
            return nil
        } catch let error as ModelError {
            return error
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    @Test func ggufTokenizerLargerThanTheEmbeddingIsRefused() throws {
        let fixtures = GGUFTests()
        let good = try fixtures.llamaTinyAsGGUF()
        defer { unlink(good) }
        #expect(try LanguageModelLoader.load(path: good).tokenizer.vocabularySize == 256)

        // 257 tokens, an embedding of 256 rows (llama.vocab_size says so).
        let extra = try fixtures.llamaTinyAsGGUF(tokenCount: 257, extraMetadata: [("llama.vocab_size", .u32(256))])
        defer { unlink(extra) }
        let error = try #require(Self.refusal { _ = try LanguageModelLoader.load(path: extra) })
        #expect(error.kind == .vocabularyMismatch && error.code == "model.vocabulary_mismatch")
        #expect(error.message.contains(extra) && error.message.contains("token id 256") && error.message.contains("\"t256\""), "\(error)")

        let bos = try fixtures.llamaTinyAsGGUF(extraMetadata: [("tokenizer.ggml.bos_token_id", .u32(300))])
        defer { unlink(bos) }
        let bosError = try #require(Self.refusal { _ = try LanguageModelLoader.load(path: bos) })
        #expect(bosError.kind == .vocabularyMismatch && bosError.message.contains("bos_token_id 300") && bosError.message.contains(bos))
    }

    @Test func tokenizerJSONIdsOutsideTheModelAreRefused() throws {
        let fixture = TestPaths.fixtures + "/llama-tiny"
        let folder = NSTemporaryDirectory() + "quern-vocab-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for file in ["config.json", "model.safetensors"] {
            try FileManager.default.createSymbolicLink(atPath: folder + "/" + file, withDestinationPath: fixture + "/" + file)
        }
        func writeTokenizer(added: [[String: Any]]) throws {
            var vocab: [String: Int] = [:]
            for id in 0..<256 { vocab["t\(id)"] = id }
            let root: [String: Any] = ["model": ["type": "BPE", "vocab": vocab, "merges": [] as [Any]], "added_tokens": added]
            try JSONSerialization.data(withJSONObject: root).write(to: URL(fileURLWithPath: folder + "/tokenizer.json"))
        }
        try writeTokenizer(added: [])
        #expect(try LanguageModelLoader.load(path: folder).tokenizer.vocabularySize == 256)

        try writeTokenizer(added: [["id": 300, "content": "<|extra|>", "special": true]])
        let error = try #require(Self.refusal { _ = try LanguageModelLoader.load(path: folder) })
        #expect(error.kind == .vocabularyMismatch)
        #expect(error.message.contains(folder + "/tokenizer.json") && error.message.contains("token id 300") && error.message.contains("<|extra|>"), "\(error)")
    }
}
