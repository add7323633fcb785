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
}

/// Per-sequence cache: one `KVCache` per layer and the position reached.
public final class DecoderState: @unchecked Sendable {
    public let caches: [KVCache]
    public let capacity: Int

    public init(layers: Int, capacity: Int, heads: Int, headDimension: Int) {
        self.capacity = capacity
        caches = (0..<layers).map { _ in KVCache(capacity: capacity, heads: heads, headDimension: headDimension) }
    }

    /// Positions already processed.
    public var count: Int { caches.first?.count ?? 0 }

    /// Forgets everything from `length` on (to reuse a shared prefix).
    public func truncate(to length: Int) { for cache in caches { cache.truncate(to: length) } }
}

extension CausalLanguageModel {
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
