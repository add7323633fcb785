import QuernTensor
import QuernModels

/// What Quern can be asked to do. Names follow the common chat-completion and
/// embeddings APIs so requests look the way people already write them.
public enum TaskName: String, Sendable, CaseIterable {
    case chat, complete, embed, classify, transcribe, train
    /// Deletes a stored conversation (`{"task": "forget", "conversation": "ID"}`).
    case forget
}

/// One unit of work, already validated: pipelines never see malformed input.
/// Chat turns and sampling are the models' own types (`ChatMessage`,
/// `SamplingParameters`): a request's values go to the model as they are.
public enum TaskRequest: Sendable, Equatable {
    case chat(messages: [ChatMessage], sampling: SamplingParameters)
    case complete(prompt: String, sampling: SamplingParameters)
    /// `truncate`: embed only the first model input's worth of a long text,
    /// exactly as sentence-transformers does, instead of the mean of windows
    /// covering all of it.
    case embed(inputs: [String], truncate: Bool = false)
    /// PNG or JPEG bytes, already checked by `PNGProbe` or `JPEGProbe` (structure and pixel limit);
    /// labels scoring below `threshold` (0…1) are left out of the result.
    case classify(image: [UInt8], topK: Int?, threshold: Float?)
    /// Audio bytes in a format libsndfile reads, already probed for length;
    /// the renderings, word timestamps and files asked for beside the transcript.
    case transcribe(audio: [UInt8], options: TranscriptionOptions = TranscriptionOptions())
    /// Train a head on a dataset inside an allowed folder (its paths are
    /// resolved and checked by `InputInspector`).
    case train(TrainingRequest)
    /// Delete the stored conversation with this (validated) id.
    case forget(conversation: String)

    public var task: TaskName {
        switch self {
        case .chat: return .chat
        case .complete: return .complete
        case .embed: return .embed
        case .classify: return .classify
        case .transcribe: return .transcribe
        case .train: return .train
        case .forget: return .forget
        }
    }
}

public enum EmbeddingEncoding: String, Sendable {
    case float, base64
}

/// A request plus the optional model name the caller asked for.
public struct Job: Sendable, Equatable {
    public var request: TaskRequest
    /// The `model` field of a `.json` request; pipelines refuse a name they don't serve.
    public var model: String?
    /// Set for a plain-text file (not a request): its text also gets a
    /// sentence embedding beside the chat or completion answer.
    public var embedsText = false
    /// The `heads` field of a request: the installed heads to run on the
    /// input, by name (empty: none). nil runs every head of the input's kind.
    public var heads: [String]?
    /// The `conversation` field of a chat request (validated): the stored
    /// conversation this request's messages continue (`Conversations`).
    public var conversation: String?
    /// What identifies this input across a crash and its re-run (the
    /// daemon's claim id): a conversation turn stored under this key is
    /// replaced, not stored twice, when the input runs again.
    public var turnKey: String?
    /// `n` of a chat or completion: how many replies to generate (choice i
    /// samples with seed + i).
    public var choices = 1
    /// `stream` of a chat or completion: the HTTP API streams the reply as
    /// server-sent events; a file's result is written whole (with a note).
    public var stream = false
    /// `stream_options.include_usage`: a last event carries the token counts.
    public var streamIncludesUsage = false
    /// `encoding_format` of an embedding: vectors as JSON numbers or as
    /// base64 of little-endian float32, as the OpenAI API sends them.
    public var embeddingEncoding = EmbeddingEncoding.float

    /// The `precision` field of an embed, classify or transcribe request:
    /// the arithmetic its model runs in; nil: the daemon's setting for the
    /// task (`--precision`), float32 unless configured.
    public var precision: Precision?

    /// The most choices one request may ask for (each is a sequence of the batch).
    public static let maximumChoices = 8

    public init(request: TaskRequest, model: String? = nil, embedsText: Bool = false, heads: [String]? = nil, conversation: String? = nil) {
        self.request = request
        self.model = model
        self.embedsText = embedsText
        self.heads = heads
        self.conversation = conversation
    }
}
