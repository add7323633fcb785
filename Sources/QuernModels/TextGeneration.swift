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
    /// Prompt tokens taken from `GenerationRequest.cached` instead of being
    /// run (0 without one).
    public var reusedPromptTokens: Int = 0
    /// The keys and values of every position run (the prompt and the
    /// generated tokens fed back), for a later request that continues this
    /// text (`GenerationRequest.cached`). Its first `count` tokens are
    /// `prompt + tokens` cut to that length.
    public var state: DecoderState?

    public var promptTokensPerSecond: Double { promptSeconds > 0 ? Double(promptTokens) / promptSeconds : 0 }
    public var generationTokensPerSecond: Double { generationSeconds > 0 ? Double(tokens.count) / generationSeconds : 0 }
}

/// A prompt and how to continue it.
public struct GenerationRequest: Sendable {
    public var prompt: [Int]
    public var sampling: SamplingParameters
    /// A state whose positions hold the keys and values of the first
    /// `cached.count` tokens of `prompt` (the caller compared the token
    /// ids): only the rest of the prompt is run. It is used (and extended)
    /// in place when it has room, else copied into a larger one. Ignored
    /// unless it leaves at least one prompt token to run.
    public var cached: DecoderState?

    public init(prompt: [Int], sampling: SamplingParameters, cached: DecoderState? = nil) {
        self.prompt = prompt
        self.sampling = sampling
        self.cached = cached
    }
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
        let outputs = try generate(batch: [GenerationRequest(prompt: prompt, sampling: sampling)],
                                   checkpoint: { _ in try checkpoint() }, onText: { _, piece in onText?(piece) })
        return try outputs[0].get()
    }

    /// Several requests decoded together: each prompt gets its own pass,
    /// then every step runs the next token of all unfinished sequences in
    /// one `forwardEach` (one pass over the weights for all of them). Each
    /// sequence's text is what it would be alone; a sequence leaves the step
    /// as soon as it finishes. `checkpoint(i)` runs before each token of
    /// request i (throwing stops the whole batch); `onText(i, piece)` gets
    /// request i's text as it grows. A request whose prompt cannot run (its
    /// context is full) fails alone.
    public func generate(
        batch requests: [GenerationRequest],
        checkpoint: (Int) throws -> Void = { _ in }, onText: ((Int, String) -> Void)? = nil
    ) throws -> [Result<GenerationOutput, any Error>] {
        let clock = ContinuousClock()
        var sequences: [Sequence] = []
        var results: [Result<GenerationOutput, any Error>?] = Array(repeating: nil, count: requests.count)
        for (index, request) in requests.enumerated() {
            let maxTokens = request.sampling.maxTokens ?? SamplingParameters.defaultMaxTokens
            let capacity = min(model.contextLength, request.prompt.count + max(maxTokens, 0))
            let promptStart = clock.now
            let (state, reused) = Self.startingState(for: request, capacity: capacity, model: model)
            do {
                let logits = try model.forward(Array(request.prompt[reused...]), state: state, allLogits: false)
                var sequence = Sequence(index: index, request: request, maxTokens: maxTokens, state: state, logits: logits,
                                        promptSeconds: (clock.now - promptStart).seconds)
                sequence.reusedPromptTokens = reused
                sequences.append(sequence)
            } catch {
                results[index] = .failure(error)
            }
        }
        let generationStart = clock.now
        var active = sequences.indices.filter { sequences[$0].maxTokens > 0 }
        for s in sequences.indices where sequences[s].maxTokens <= 0 { sequences[s].generationEnd = generationStart }
        while !active.isEmpty {
            var stepping: [Int] = []
            for s in active {
                // Lets the caller abandon a long generation (timeout, shutdown).
                try checkpoint(sequences[s].index)
                if let piece = sequences[s].advance(endTokens: endTokens, tokenizer: tokenizer), !piece.isEmpty {
                    onText?(sequences[s].index, piece)
                }
                if sequences[s].isFinished {
                    sequences[s].generationEnd = clock.now
                } else {
                    stepping.append(s)
                }
            }
            active = stepping
            guard !active.isEmpty else { break }
            let logits = try model.forwardEach(active.map { sequences[$0].generated.last! }, states: active.map { sequences[$0].state })
            for (row, s) in active.enumerated() { sequences[s].logits = logits.row(row) }
        }
        for var sequence in sequences {
            if sequence.finish == .length { sequence.text += sequence.decoder.finish() }
            results[sequence.index] = .success(GenerationOutput(
                text: sequence.text, tokens: sequence.generated, finishReason: sequence.finish, promptTokens: sequence.request.prompt.count,
                promptSeconds: sequence.promptSeconds, generationSeconds: ((sequence.generationEnd ?? clock.now) - generationStart).seconds,
                reusedPromptTokens: sequence.reusedPromptTokens, state: sequence.state))
        }
        return results.map { $0! }
    }

    /// The state a request's prompt pass starts from, and how many of its
    /// prompt tokens it already holds: the request's cached state (in place
    /// when it has room, else a larger copy) when it holds fewer tokens than
    /// the prompt, else a fresh one.
    static func startingState(for request: GenerationRequest, capacity: Int, model: any CausalLanguageModel) -> (DecoderState, Int) {
        guard let cached = request.cached, cached.count > 0, cached.count < request.prompt.count else {
            return (model.makeState(capacity: capacity), 0)
        }
        return (cached.capacity >= capacity ? cached : cached.copy(capacity: capacity), cached.count)
    }

    /// One request of a batch as it is decoded.
    struct Sequence {
        let index: Int
        let request: GenerationRequest
        let maxTokens: Int
        let state: DecoderState
        /// The logits for the next token.
        var logits: Tensor
        let promptSeconds: Double
        var reusedPromptTokens = 0
        var sampler: Sampler
        var generated: [Int] = []
        var history: [Int]
        var text = ""
        var decoder = StreamingDecoder()
        var finish = FinishReason.length
        var isFinished = false
        var generationEnd: ContinuousClock.Instant?

        init(index: Int, request: GenerationRequest, maxTokens: Int, state: DecoderState, logits: Tensor, promptSeconds: Double) {
            self.index = index
            self.request = request
            self.maxTokens = maxTokens
            self.state = state
            self.logits = logits
            self.promptSeconds = promptSeconds
            sampler = Sampler(request.sampling)
            history = request.prompt
        }

        /// Draws the next token; returns the text it adds (nil when it ends
        /// the sequence without text).
        mutating func advance(endTokens: Set<Int>, tokenizer: ByteLevelBPE) -> String? {
            let token = sampler.next(logits: logits, history: history)
            if endTokens.contains(token) {
                finish = .stop
                isFinished = true
                return nil
            }
            generated.append(token)
            history.append(token)
            let piece = decoder.append(tokenizer.bytes(of: token))
            text += piece
            if let cut = TextGenerator.earliestStop(in: text, stops: request.sampling.stop, newPieceLength: piece.count) {
                text = String(text[..<cut])
                finish = .stop
                isFinished = true
                return nil
            }
            if generated.count == maxTokens || state.count >= state.capacity { isFinished = true }
            return piece
        }
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
