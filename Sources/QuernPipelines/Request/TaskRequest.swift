/// What Quern can be asked to do. Names follow the common chat-completion and
/// embeddings APIs so requests look the way people already write them.
public enum TaskName: String, Sendable, CaseIterable {
    case chat, complete, embed, classify, transcribe
}

public struct ChatMessage: Sendable, Equatable {
    public enum Role: String, Sendable, CaseIterable { case system, user, assistant }
    public var role: Role
    public var content: String

    public init(role: Role, content: String) {
        self.role = role
        self.content = content
    }
}

/// Decoding controls for the generating tasks. nil means "the model's default".
public struct SamplingParameters: Sendable, Equatable {
    public var maxTokens: Int?
    public var temperature: Double?
    public var topK: Int?
    public var topP: Double?
    public var minP: Double?
    public var repetitionPenalty: Double?
    public var seed: UInt64?
    public var stop: [String] = []

    public init() {}
}

/// One unit of work, already validated: pipelines never see malformed input.
public enum TaskRequest: Sendable, Equatable {
    case chat(messages: [ChatMessage], sampling: SamplingParameters)
    case complete(prompt: String, sampling: SamplingParameters)
    /// `truncate`: embed only the first model input's worth of a long text,
    /// exactly as sentence-transformers does, instead of the mean of windows
    /// covering all of it.
    case embed(inputs: [String], truncate: Bool = false)
    /// PNG bytes, already checked by `PNGProbe` (structure and pixel limit);
    /// labels scoring below `threshold` (0…1) are left out of the result.
    case classify(image: [UInt8], topK: Int?, threshold: Float?)
    /// Audio bytes in a format libsndfile reads, already probed for length;
    /// the subtitle formats to produce beside the transcript.
    case transcribe(audio: [UInt8], subtitles: [SubtitleFormat] = [])

    public var task: TaskName {
        switch self {
        case .chat: return .chat
        case .complete: return .complete
        case .embed: return .embed
        case .classify: return .classify
        case .transcribe: return .transcribe
        }
    }
}

/// A request plus the optional model name the caller asked for.
public struct Job: Sendable, Equatable {
    public var request: TaskRequest
    /// The `model` field of a `.json` request; pipelines refuse a name they don't serve.
    public var model: String?
    /// Set for a plain-text file (not a request): its text also gets a
    /// sentence embedding beside the chat or completion answer.
    public var embedsText = false

    public init(request: TaskRequest, model: String? = nil, embedsText: Bool = false) {
        self.request = request
        self.model = model
        self.embedsText = embedsText
    }
}
