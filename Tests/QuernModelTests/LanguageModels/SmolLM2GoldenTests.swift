import Foundation
import QuernModels
import QuernTensor
import QuernTestSupport
import QuernTokenizers
import Testing

/// The real SmolLM2-135M-Instruct (Q4_1 GGUF) against llama.cpp's golden
/// outputs (tools/goldens/make_smollm2_goldens.py): its tokenizer, and for
/// chat and perplexity its exact-arithmetic reference — the same weights
/// expanded to F32, so no activation is rounded to 8 bits.
@Suite(.serialized) struct SmolLM2GoldenTests {
    struct Golden: Decodable {
        struct TokenizerCase: Decodable { let text: String; let ids: [Int] }
        struct Message: Decodable { let role: String; let content: String }
        struct Logits: Decodable { let ids: [Int]; let values: [Double] }
        struct Chat: Decodable {
            let messages: [Message]
            let prompt_ids: [Int]
            let greedy: [Int]
            let margins: [Double]
            let first_logits: Logits
        }
        struct Perplexity: Decodable { let source: String; let tokens: Int; let context: Int; let value: Double }
        let tokenizer: [TokenizerCase]
        let tokenizer_plain: [TokenizerCase]
        let chat: [Chat]
        let perplexity: Perplexity
    }

    static let golden: Golden = {
        let path = TestPaths.repository + "/tools/goldens/smollm2_goldens.json"
        do {
            return try JSONDecoder().decode(Golden.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            preconditionFailure("cannot read \(path): \(error)")
        }
    }()

    /// Loaded once for the suite; a missing model is a clear failure.
    static let model: LoadedLanguageModel? = {
        guard FileManager.default.fileExists(atPath: TestPaths.smolLM2) else { return nil }
        _ = try? BLAS.load()
        return try? LanguageModelLoader.load(path: TestPaths.smolLM2)
    }()

    func loaded() throws -> LoadedLanguageModel {
        try #require(Self.model, "SmolLM2 is missing or failed to load at \(TestPaths.smolLM2); run scripts/fetch-models.sh")
    }

    @Test func tokenIdsEqualLlamaCpp() throws {
        let tokenizer = try loaded().tokenizer
        #expect(Self.golden.tokenizer.count >= 50)
        for item in Self.golden.tokenizer {
            #expect(tokenizer.encode(item.text, parseSpecial: true) == item.ids, "\(String(reflecting: item.text))")
        }
        for item in Self.golden.tokenizer_plain {
            #expect(tokenizer.encode(item.text, parseSpecial: false) == item.ids, "plain \(String(reflecting: item.text))")
        }
    }

    @Test func decodingRoundTripsText() throws {
        let tokenizer = try loaded().tokenizer
        for item in Self.golden.tokenizer where !item.text.contains("<|") && !item.text.contains("<repo_name>") {
            #expect(tokenizer.decode(item.ids) == item.text, "\(String(reflecting: item.text))")
        }
        // A streamed decode never shows half a character.
        var stream = StreamingDecoder()
        var text = ""
        for id in tokenizer.encode("👨‍👩‍👧‍👦 你好", parseSpecial: false) { text += stream.append(tokenizer.bytes(of: id)) }
        text += stream.finish()
        #expect(text == "👨‍👩‍👧‍👦 你好" && !text.contains("\u{FFFD}"))
    }

    @Test func chatTemplateRendersTheSameTokens() throws {
        let loaded = try loaded()
        let template = try #require(loaded.chatTemplate)
        #expect(template.family == .chatml)
        #expect(template.defaultSystemPrompt == "You are a helpful AI assistant named SmolLM, trained by Hugging Face")
        for chat in Self.golden.chat {
            let text = template.render(chat.messages.map { ChatMessage(role: $0.role, content: $0.content) })
            #expect(loaded.tokens(for: text) == chat.prompt_ids, "\(chat.messages.last!.content)")
        }
    }

    /// First-position logits within 2e-2 for every prompt; greedy replies
    /// identical for 32 tokens in at least 18 conversations, the others
    /// diverging only where the reference's top-2 margin is below 2e-2.
    @Test func chatRepliesMatchExactArithmetic() throws {
        let loaded = try loaded()
        var identical = 0, worstLogit = 0.0
        for chat in Self.golden.chat {
            let state = loaded.model.makeState(capacity: chat.prompt_ids.count + 32)
            var logits = try loaded.model.forward(chat.prompt_ids, state: state, allLogits: false).scalars
            for (id, value) in zip(chat.first_logits.ids, chat.first_logits.values) {
                worstLogit = max(worstLogit, abs(Double(logits[id]) - value))
            }
            var divergence: Int?
            for step in 0..<32 {
                let token = argmax(logits)
                if token != chat.greedy[step] {
                    divergence = step
                    break
                }
                if step < 31 { logits = try loaded.model.forward([token], state: state, allLogits: false).scalars }
            }
            if let step = divergence {
                #expect(chat.margins[step] < 2e-2, "\(chat.messages.last!.content): diverged at step \(step) where the reference margin is \(chat.margins[step])")
            } else {
                identical += 1
            }
        }
        #expect(worstLogit <= 2e-2, "first-position logits differ by up to \(worstLogit)")
        #expect(identical >= 18, "\(identical) of \(Self.golden.chat.count) replies identical for 32 tokens")
        print("SmolLM2 golden: max first-logit difference \(worstLogit); \(identical)/\(Self.golden.chat.count) greedy replies identical for 32 tokens")
    }

    @Test func perplexityOnGPL3MatchesExactArithmetic() throws {
        let loaded = try loaded()
        let reference = Self.golden.perplexity
        let text = try String(contentsOfFile: reference.source, encoding: .utf8)
        let ids = Array(loaded.tokenizer.encode(text, parseSpecial: false).prefix(reference.tokens))
        #expect(ids.count == reference.tokens)
        let state = loaded.model.makeState(capacity: reference.context)
        let logits = try loaded.model.forward(ids, state: state, allLogits: true)
        let logProbabilities = logSoftmax(logits)
        var negativeLogLikelihood = 0.0
        for position in 0..<ids.count - 1 {
            negativeLogLikelihood -= Double(logProbabilities[flat: position * loaded.model.vocabularySize + ids[position + 1]])
        }
        let perplexity = exp(negativeLogLikelihood / Double(ids.count - 1))
        let relative = abs(perplexity - reference.value) / reference.value
        #expect(relative <= 0.005, "perplexity \(perplexity) vs \(reference.value)")
        print("SmolLM2 golden: perplexity \(perplexity) vs exact-arithmetic \(reference.value) (relative \(relative))")
    }
}
