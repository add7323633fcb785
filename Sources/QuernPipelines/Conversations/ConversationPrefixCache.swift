import QuernModels
import Synchronization

/// The keys and values of each recent conversation's prompt and reply, kept
/// in memory between its turns so that a follow-up's prompt pass runs only
/// its new tokens (`--conversation-cache`).
///
/// An entry is the token ids a `DecoderState` holds and the state itself.
/// A turn takes its conversation's entry out (so no two sequences ever
/// extend one state), reuses the longest common prefix of those ids and its
/// new prompt — compared id by id, so anything the chat template rendered
/// differently, a turn the prompt fitting dropped, or a reply cut at a stop
/// string falls back to running the rest — and puts the state back after
/// the turn, reply included. Least recently used entries are evicted to
/// keep the states' allocated bytes under the limit; a state larger than the
/// whole limit is not kept. Belongs to one loaded model: unloading the model
/// drops it.
public final class ConversationPrefixCache: Sendable {
    struct Entry {
        var tokens: [Int]
        var state: DecoderState
        var bytes: Int
        var lastUse: UInt64
    }

    struct Contents {
        var entries: [String: Entry] = [:]
        var bytes = 0
        var clock: UInt64 = 0
        /// The daemon's `--max-memory` budget, charged with `bytes`.
        var budget: MemoryBudget?
    }

    public let limitBytes: Int
    private let contents = Mutex(Contents())

    /// Charges what the cache holds to `budget` from now on: a state is only
    /// kept when it fits beside the models and the inputs in flight (else the
    /// least recently used go first, or it is not kept), so the cache never
    /// takes the daemon past `--max-memory`.
    public func share(_ budget: MemoryBudget) {
        contents.withLock { contents in
            contents.budget = budget
            budget.reserveModel(contents.bytes)
        }
    }

    public init(limitBytes: Int) {
        self.limitBytes = max(0, limitBytes)
    }

    /// Bytes held now, and the number of conversations.
    public var usage: (bytes: Int, conversations: Int) { contents.withLock { ($0.bytes, $0.entries.count) } }

    /// Takes conversation `id`'s state out, cut to the longest prefix it
    /// shares with `prompt` (leaving at least one prompt token to run, whose
    /// logits start the reply). nil when there is none or nothing is shared.
    public func take(_ id: String, for prompt: [Int]) -> DecoderState? {
        guard let entry = contents.withLock({ contents -> Entry? in
            guard let entry = contents.entries.removeValue(forKey: id) else { return nil }
            contents.release(entry.bytes)
            return entry
        }) else { return nil }
        let shared = Self.commonPrefixLength(entry.tokens, prompt, limit: min(entry.state.count, prompt.count - 1))
        guard shared > 0 else { return nil }
        entry.state.truncate(to: shared)
        return entry.state
    }

    /// Keeps `state`, whose positions hold `tokens` (cut to `state.count`),
    /// as conversation `id`'s, evicting the least recently used others.
    public func put(_ id: String, tokens: [Int], state: DecoderState) {
        let bytes = state.allocatedBytes
        contents.withLock { contents in
            if let old = contents.entries.removeValue(forKey: id) { contents.release(old.bytes) }
            guard bytes <= limitBytes, state.count > 0 else { return }
            while contents.bytes + bytes > limitBytes || !(contents.budget?.fits(bytes) ?? true),
                  let oldest = contents.entries.min(by: { $0.value.lastUse < $1.value.lastUse }) {
                contents.entries[oldest.key] = nil
                contents.release(oldest.value.bytes)
            }
            guard contents.budget?.fits(bytes) ?? true else { return }
            contents.clock += 1
            contents.entries[id] = Entry(tokens: Array(tokens.prefix(state.count)), state: state, bytes: bytes, lastUse: contents.clock)
            contents.bytes += bytes
            contents.budget?.reserveModel(bytes)
        }
    }

    /// Drops conversation `id`'s state (it was forgotten).
    public func remove(_ id: String) {
        contents.withLock { contents in
            if let old = contents.entries.removeValue(forKey: id) { contents.release(old.bytes) }
        }
    }

    /// Drops every state (the model that computed them was unloaded: a
    /// model loaded later, perhaps from other weights, must not reuse them).
    public func removeAll() {
        contents.withLock { contents in
            contents.release(contents.bytes)
            contents.entries = [:]
        }
    }

    static func commonPrefixLength(_ a: [Int], _ b: [Int], limit: Int) -> Int {
        var length = 0
        let end = min(a.count, b.count, max(0, limit))
        while length < end && a[length] == b[length] { length += 1 }
        return length
    }
}

extension ConversationPrefixCache.Contents {
    /// Forgets `bytes` of states (and gives them back to the budget).
    mutating func release(_ bytes: Int) {
        self.bytes -= bytes
        budget?.releaseModel(bytes)
    }
}
