import QuernJSON
import QuernModels

/// A chat request that continues a stored conversation, as prepared: the
/// stored messages it is rendered after, and its own new ones (saved with
/// the reply once the reply exists).
struct ConversationTurn: Sendable {
    let id: String
    /// `Job.turnKey`: the stored turn it replaces when it runs again.
    let key: String?
    let history: [ChatMessage]
    let newMessages: [ChatMessage]
}

/// What a chat result says about the conversation it continued
/// (`result.conversation`).
public struct ConversationDetails: Sendable, Equatable {
    public var id: String
    /// Stored messages the prompt was built from, before this turn.
    public var historyMessages: Int
    /// Messages stored after this turn (its messages and the reply, less any
    /// old ones the store's bounds dropped).
    public var storedMessages: Int
    /// Prompt tokens whose keys and values came from the conversation cache
    /// instead of a prompt pass.
    public var cachedTokens: Int

    public init(id: String, historyMessages: Int, storedMessages: Int, cachedTokens: Int) {
        self.id = id
        self.historyMessages = historyMessages
        self.storedMessages = storedMessages
        self.cachedTokens = cachedTokens
    }

    var json: JSONValue {
        .object([("id", .string(id)), ("history_messages", .int(historyMessages)), ("stored_messages", .int(storedMessages)),
                 ("cached_tokens", .int(cachedTokens))])
    }
}

extension LanguageModelPipeline {
    /// The stored conversation a chat job continues, read now (the lane runs
    /// turns of one conversation in separate batches, in arrival order, so
    /// the previous turn's reply is already stored).
    func conversationTurn(_ job: Job, messages: [ChatMessage]) throws(QuernError) -> ConversationTurn? {
        guard let id = job.conversation else { return nil }
        guard let conversations else {
            throw QuernError(.unsupported, "this quern keeps no conversations (field \"conversation\"): quern serve keeps them in <inbox>/.quern/conversations; give quern run --conversations DIR")
        }
        return ConversationTurn(id: id, key: job.turnKey, history: try conversations.store.messages(of: id, excludingTurn: job.turnKey),
                                newMessages: messages)
    }

    /// The cached keys and values of the conversation's earlier turns that
    /// this prompt begins with, taken out of the cache.
    func cachedState(for item: Prepared) -> DecoderState? {
        guard let turn = item.turn, let conversations else { return nil }
        return conversations.cache.take(turn.id, for: item.tokens)
    }

    /// Saves the turn (its messages and the reply) and caches its keys and
    /// values for the next one. Only called for a reply that was generated:
    /// a failed, timed-out or cancelled turn leaves the conversation as it was.
    func finish(_ turn: ConversationTurn, item: Prepared, output: GenerationOutput) throws(QuernError) -> ConversationDetails {
        guard let conversations else { throw QuernError(.internalError, "a conversation turn without a conversation store") }
        let appended = try conversations.store.append(turn.newMessages + [ChatMessage(role: .assistant, content: output.text)], to: turn.id, key: turn.key)
        if let state = output.state { conversations.cache.put(turn.id, tokens: item.tokens + output.tokens, state: state) }
        return ConversationDetails(id: turn.id, historyMessages: turn.history.count, storedMessages: appended.messages,
                                   cachedTokens: output.reusedPromptTokens)
    }
}
