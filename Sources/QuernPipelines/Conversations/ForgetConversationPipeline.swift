/// `{"task": "forget", "conversation": "ID"}`: deletes a conversation's
/// stored messages and its cached keys and values. It runs on the chat
/// model's lane (`lane`), so it comes after every turn of the conversation
/// that arrived before it and before every one that arrives after, without
/// loading the model.
public struct ForgetConversationPipeline: Pipeline {
    public typealias Prepared = Job

    public let conversations: Conversations
    public let lane: String
    public let identity = ModelIdentity(name: "quern-conversations", weightsSHA256: nil)
    public let tasks: Set<TaskName> = [.forget]

    public init(conversations: Conversations, lane: String) {
        self.conversations = conversations
        self.lane = lane
    }

    public func run(_ batch: [Job], context: PipelineContext) async throws(QuernError) -> [Result<TaskOutput, QuernError>] {
        batch.map { job in
            guard case let .forget(id) = job.request else {
                return .failure(QuernError(.internalError, "the forget pipeline received a \(job.request.task.rawValue) job"))
            }
            conversations.cache.remove(id)
            return Result { () throws(QuernError) -> TaskOutput in
                let count = try conversations.store.forget(id)
                return .forgotten(ForgetOutput(conversation: id, existed: count != nil, messages: count ?? 0))
            }
        }
    }
}

/// The answer to `forget`: whether the conversation existed, and how many
/// messages it held.
public struct ForgetOutput: Sendable, Equatable {
    public var conversation: String
    public var existed: Bool
    public var messages: Int

    public init(conversation: String, existed: Bool, messages: Int) {
        self.conversation = conversation
        self.existed = existed
        self.messages = messages
    }
}
