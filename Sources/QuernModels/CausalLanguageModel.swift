import QuernTensor

/// A decoder-only language model: tokens in, next-token logits out, with
/// the keys and values of earlier positions kept in a `DecoderState`.
public protocol CausalLanguageModel: AnyObject, Sendable {
    var architecture: String { get }
    var vocabularySize: Int { get }
    /// The longest sequence the model was trained for.
    var contextLength: Int { get }

    /// An empty cache for up to `capacity` positions.
    func makeState(capacity: Int) -> DecoderState

    /// Runs `tokens` at the next positions of `state` (all in one batched
    /// pass) and appends them to it. Returns logits [tokens.count, vocab]
    /// when `allLogits`, else [1, vocab] for the last token only.
    func forward(_ tokens: [Int], state: DecoderState, allLogits: Bool) throws -> Tensor

    /// One next token for each of several sequences in one pass (decoding
    /// a batch of requests together): token i runs at the next position of
    /// `states[i]` and is appended to it. Row i of the [count, vocab] result
    /// is exactly what `forward([tokens[i]], state: states[i], allLogits: false)`
    /// would give: batch-mates never change a sequence's text.
    func forwardEach(_ tokens: [Int], states: [DecoderState]) throws -> Tensor
}

/// Per-sequence cache: one `KVCache` per layer and the position reached.
public final class DecoderState: @unchecked Sendable {
    public let caches: [KVCache]
    public let capacity: Int

    public init(layers: Int, capacity: Int, heads: Int, headDimension: Int) {
        self.capacity = capacity
        caches = (0..<layers).map { _ in KVCache(capacity: capacity, heads: heads, headDimension: headDimension) }
    }

    private init(caches: [KVCache], capacity: Int) {
        self.caches = caches
        self.capacity = capacity
    }

    /// A copy with room for `capacity` positions (at least `count`).
    public func copy(capacity newCapacity: Int) -> DecoderState {
        let capacity = max(newCapacity, count)
        return DecoderState(caches: caches.map { $0.copy(capacity: capacity) }, capacity: capacity)
    }

    /// Bytes the keys and values of every layer occupy.
    public var allocatedBytes: Int { caches.reduce(0) { $0 + $1.allocatedBytes } }

    /// Positions already processed.
    public var count: Int { caches.first?.count ?? 0 }

    /// Forgets everything from `length` on (to reuse a shared prefix).
    public func truncate(to length: Int) { for cache in caches { cache.truncate(to: length) } }
}

extension CausalLanguageModel {
    /// One sequence after another; models with a batched step override it.
    public func forwardEach(_ tokens: [Int], states: [DecoderState]) throws -> Tensor {
        precondition(tokens.count == states.count, "forwardEach: \(tokens.count) tokens for \(states.count) sequences")
        let logits = Tensor(zeros: [tokens.count, vocabularySize])
        for (i, (token, state)) in zip(tokens, states).enumerated() {
            logits.row(i).assign(try forward([token], state: state, allLogits: false))
        }
        return logits
    }

    /// Checks that `tokens` fit the state and the vocabulary.
    func validate(_ tokens: [Int], state: DecoderState) throws(ModelError) {
        guard state.count + tokens.count <= state.capacity else {
            throw ModelError(.contextFull, "\(state.count) + \(tokens.count) tokens exceed the context of \(state.capacity)")
        }
        for token in tokens where token < 0 || token >= vocabularySize {
            throw ModelError(.tokenOutOfRange, "token id \(token) is outside the vocabulary of \(vocabularySize)")
        }
    }
}
