import Foundation
import QuernTensor
import QuernTokenizers

/// Why generation ended, as the chat-completion APIs report it.
public enum FinishReason: String, Sendable, Codable {
    /// An end-of-generation token or a stop string.
    case stop
    /// max_tokens, or the context filled up.
    case length
}

public struct GenerationOutput: Sendable {
    public var text: String
    public var tokens: [Int]
    public var finishReason: FinishReason
    public var promptTokens: Int
    public var promptSeconds: Double
    public var generationSeconds: Double

    public var promptTokensPerSecond: Double { promptSeconds > 0 ? Double(promptTokens) / promptSeconds : 0 }
    public var generationTokensPerSecond: Double { generationSeconds > 0 ? Double(tokens.count) / generationSeconds : 0 }
}

/// Prompt in one batched pass, then one token at a time, until an
/// end-of-generation token, a stop string, `maxTokens` or the context end.
public struct TextGenerator {
    public let model: any CausalLanguageModel
    public let tokenizer: ByteLevelBPE
    public let endTokens: Set<Int>

    public init(model: any CausalLanguageModel, tokenizer: ByteLevelBPE, endTokens: Set<Int>) {
        self.model = model
        self.tokenizer = tokenizer
        self.endTokens = endTokens
    }

    /// Up to `sampling.maxTokens` tokens after `prompt`, stopping early at
    /// an end token, a `sampling.stop` string or the end of the context.
    public func generate(
        prompt: [Int], sampling: SamplingParameters,
        checkpoint: () throws -> Void = {}, onText: ((String) -> Void)? = nil
    ) throws -> GenerationOutput {
        let maxTokens = sampling.maxTokens ?? SamplingParameters.defaultMaxTokens
        let capacity = min(model.contextLength, prompt.count + max(maxTokens, 0))
        let state = model.makeState(capacity: capacity)
        var sampler = Sampler(sampling)
        let clock = ContinuousClock()
        let promptStart = clock.now
        var logits = try model.forward(prompt, state: state, allLogits: false)
        let promptSeconds = (clock.now - promptStart).seconds

        var generated: [Int] = []
        var text = ""
        var decoder = StreamingDecoder()
        var finish = FinishReason.length
        var history = prompt
        let generationStart = clock.now
        while generated.count < maxTokens {
            // Lets the caller abandon a long generation (timeout, shutdown).
            try checkpoint()
            let token = sampler.next(logits: logits, history: history)
            if endTokens.contains(token) {
                finish = .stop
                break
            }
            generated.append(token)
            history.append(token)
            let piece = decoder.append(tokenizer.bytes(of: token))
            text += piece
            if let cut = Self.earliestStop(in: text, stops: sampling.stop, newPieceLength: piece.count) {
                text = String(text[..<cut])
                finish = .stop
                break
            }
            if !piece.isEmpty { onText?(piece) }
            if generated.count == maxTokens || state.count >= state.capacity { break }
            logits = try model.forward([token], state: state, allLogits: false)
        }
        if finish == .length { text += decoder.finish() }
        return GenerationOutput(text: text, tokens: generated, finishReason: finish, promptTokens: prompt.count,
                                promptSeconds: promptSeconds, generationSeconds: (clock.now - generationStart).seconds)
    }

    /// Where the first stop string begins, looking only where the newest
    /// piece could have completed one.
    static func earliestStop(in text: String, stops: [String], newPieceLength: Int) -> String.Index? {
        var earliest: String.Index?
        for stop in stops where !stop.isEmpty {
            let window = text.index(text.endIndex, offsetBy: -min(text.count, stop.count + newPieceLength))
            if let range = text[window...].range(of: stop), earliest == nil || range.lowerBound < earliest! {
                earliest = range.lowerBound
            }
        }
        return earliest
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
