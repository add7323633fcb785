/// What chat turns that name a `"conversation"` need: where their messages
/// are kept, and the in-memory prefix cache of their keys and values. Made
/// once by whoever builds the pipelines (the daemon passes its state
/// folder), shared by the language model's pipeline and the `forget` task.
public final class Conversations: Sendable {
    /// `--conversation-cache`'s default: 256 MiB keeps about 5,800 tokens of
    /// SmolLM2-135M (45 KiB per token: 30 layers × 3 key/value heads × 64 ×
    /// keys and values × 4 bytes) — a few long conversations or a few dozen
    /// short ones, whose prompt passes would take tens of seconds to run
    /// again on two cores — and it is charged to the `--max-memory` budget,
    /// so it keeps less when memory is short.
    public static let defaultCacheBytes = 256 << 20

    public let store: ConversationStore
    public let cache: ConversationPrefixCache

    public init(store: ConversationStore, cacheBytes: Int = defaultCacheBytes) {
        self.store = store
        cache = ConversationPrefixCache(limitBytes: cacheBytes)
    }

    /// Ties the cache to one loaded model: when the pipeline holding it is
    /// released (the model unloaded), the states it computed are dropped.
    final class ModelLease: Sendable {
        let conversations: Conversations

        init(_ conversations: Conversations) {
            self.conversations = conversations
            conversations.cache.removeAll()
        }

        deinit { conversations.cache.removeAll() }
    }
}
