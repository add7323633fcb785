import Foundation
import QuernJSON
import QuernModels

/// Token counts, as the common chat-completion APIs report them
/// (`completionTokens` counts every choice's tokens).
public struct TokenUsage: Sendable, Equatable {
    public var promptTokens: Int
    public var completionTokens: Int

    public init(promptTokens: Int, completionTokens: Int) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
    }

    public var totalTokens: Int { promptTokens + completionTokens }
}

/// One reply of a chat or completion asked for several (`n`).
public struct GeneratedChoice: Sendable, Equatable {
    public var text: String
    public var finishReason: FinishReason

    public init(text: String, finishReason: FinishReason) {
        self.text = text
        self.finishReason = finishReason
    }
}

/// What a language model reports beside its text: the parameters it
/// decoded with, its speed, and how the prompt fitted the context.
public struct GenerationDetails: Sendable, Equatable {
    public var parameters: JSONValue
    public var promptTokensPerSecond: Double
    public var generationTokensPerSecond: Double
    public var contextLimit: Int
    public var droppedMessages: Int
    /// The stored conversation the request continued, if it named one.
    public var conversation: ConversationDetails?
    /// What the request asked for that this answer does not do, and why
    /// (a file's `stream`: its result is written whole).
    public var notes: [String] = []

    public init(parameters: JSONValue, promptTokensPerSecond: Double, generationTokensPerSecond: Double, contextLimit: Int, droppedMessages: Int) {
        self.parameters = parameters
        self.promptTokensPerSecond = promptTokensPerSecond
        self.generationTokensPerSecond = generationTokensPerSecond
        self.contextLimit = contextLimit
        self.droppedMessages = droppedMessages
    }

    func members(promptTokens: Int) -> [(key: String, value: JSONValue)] {
        [("parameters", parameters),
         ("speed", .object([("prompt_tokens_per_second", .double(promptTokensPerSecond)),
                            ("generation_tokens_per_second", .double(generationTokensPerSecond))])),
         ("context", .object([("limit", .int(contextLimit)), ("prompt_tokens", .int(promptTokens)),
                              ("dropped_messages", .int(droppedMessages)), ("policy", .string("drop_oldest_turns"))]))]
            + (conversation.map { [("conversation", $0.json)] } ?? [])
            + (notes.isEmpty ? [] : [("notes", .array(notes.map(JSONValue.string)))])
    }
}

public struct ChatOutput: Sendable, Equatable {
    /// The first choice's text and finish reason.
    public var content: String
    public var finishReason: FinishReason
    /// The choices after the first, when the request asked for several (`n`).
    public var moreChoices: [GeneratedChoice]
    public var usage: TokenUsage
    public var details: GenerationDetails?
    /// A plain-text file's own sentence embedding, beside the answer.
    public var textEmbedding: AttachedEmbedding?
    /// The text heads' verdicts on that embedding.
    public var heads: HeadOutputs?

    /// Every choice, the first included, in order.
    public var choices: [GeneratedChoice] { [GeneratedChoice(text: content, finishReason: finishReason)] + moreChoices }

    public init(content: String, finishReason: FinishReason, usage: TokenUsage, details: GenerationDetails? = nil, textEmbedding: AttachedEmbedding? = nil,
                heads: HeadOutputs? = nil, moreChoices: [GeneratedChoice] = []) {
        self.moreChoices = moreChoices
        self.content = content
        self.finishReason = finishReason
        self.usage = usage
        self.details = details
        self.textEmbedding = textEmbedding
        self.heads = heads
    }
}

public struct CompletionOutput: Sendable, Equatable {
    /// The first choice's text and finish reason.
    public var text: String
    public var finishReason: FinishReason
    /// The choices after the first, when the request asked for several (`n`).
    public var moreChoices: [GeneratedChoice]
    public var usage: TokenUsage
    public var details: GenerationDetails?
    /// A plain-text file's own sentence embedding, beside the answer.
    public var textEmbedding: AttachedEmbedding?
    /// The text heads' verdicts on that embedding.
    public var heads: HeadOutputs?

    /// Every choice, the first included, in order.
    public var choices: [GeneratedChoice] { [GeneratedChoice(text: text, finishReason: finishReason)] + moreChoices }

    public init(text: String, finishReason: FinishReason, usage: TokenUsage, details: GenerationDetails? = nil, textEmbedding: AttachedEmbedding? = nil,
                heads: HeadOutputs? = nil, moreChoices: [GeneratedChoice] = []) {
        self.moreChoices = moreChoices
        self.text = text
        self.finishReason = finishReason
        self.usage = usage
        self.details = details
        self.textEmbedding = textEmbedding
        self.heads = heads
    }
}

/// The sentence embedding of a plain-text file's text, attached to its chat
/// or completion result: every text that comes through the inbox is also
/// embedded (by the embedding model, named here).
public struct AttachedEmbedding: Sendable, Equatable {
    public var model: ModelIdentity
    /// One input: the file's text.
    public var output: EmbeddingOutput

    public init(model: ModelIdentity, output: EmbeddingOutput) {
        self.model = model
        self.output = output
    }

    var json: JSONValue {
        guard case let .object(members) = TaskOutput.embedding(output).json else { return .null }
        var modelMembers: [(key: String, value: JSONValue)] = [("model", .string(model.name)), ("sha256", .optional(model.weightsSHA256))]
        if let precision = model.precision { modelMembers.append(("precision", .string(precision.rawValue))) }
        return .object(modelMembers + members)
    }
}

public struct EmbeddingOutput: Sendable, Equatable {
    /// How one input was fed to the model. A text longer than the model's
    /// maximum sequence length is never cut silently: it is split into
    /// windows, each embedded, and its vector is their mean (renormalised);
    /// or, when the request asked to truncate, only its beginning is
    /// embedded and the result says how much.
    public struct Input: Sendable, Equatable {
        public struct Window: Sendable, Equatable {
            /// The word pieces of the text the window holds.
            public var pieces: Range<Int>
            /// Model tokens, special tokens included.
            public var tokens: Int
            public var vector: [Float]

            public init(pieces: Range<Int>, tokens: Int, vector: [Float]) {
                self.pieces = pieces
                self.tokens = tokens
                self.vector = vector
            }
        }

        /// What a truncated text gave the model: its first `piecesUsed` of
        /// `piecesTotal` word pieces.
        public struct Truncation: Sendable, Equatable {
            public var piecesUsed: Int
            public var piecesTotal: Int

            public init(piecesUsed: Int, piecesTotal: Int) {
                self.piecesUsed = piecesUsed
                self.piecesTotal = piecesTotal
            }
        }

        /// Tokens the text would take as one model input (word pieces plus special tokens).
        public var tokens: Int
        /// Empty when the text fit in one model input or was truncated.
        public var windows: [Window]
        /// Set only when the text was truncated (the request asked to, and it did not fit).
        public var truncation: Truncation?

        public init(tokens: Int, windows: [Window], truncation: Truncation? = nil) {
            self.tokens = tokens
            self.windows = windows
            self.truncation = truncation
        }
    }

    /// One vector per input, in input order.
    public var vectors: [[Float]]
    public var promptTokens: Int
    /// Per input, in order (empty: not reported).
    public var inputs: [Input]
    /// The model's maximum sequence length, special tokens included (nil: not reported).
    public var maxTokens: Int?
    /// The text heads' verdicts, one per input in input order (nil: no heads ran).
    public var heads: [HeadOutputs]?
    /// How `embedding` is written: JSON numbers, or base64 (the request's `encoding_format`).
    public var encoding: EmbeddingEncoding

    public init(vectors: [[Float]], promptTokens: Int, inputs: [Input] = [], maxTokens: Int? = nil, heads: [HeadOutputs]? = nil,
                encoding: EmbeddingEncoding = .float) {
        self.encoding = encoding
        self.vectors = vectors
        self.promptTokens = promptTokens
        self.inputs = inputs
        self.maxTokens = maxTokens
        self.heads = heads
    }
}

public struct ClassificationOutput: Sendable, Equatable {
    public struct Label: Sendable, Equatable {
        public var index: Int
        public var label: String
        public var score: Float

        public init(index: Int, label: String, score: Float) {
            self.index = index
            self.label = label
            self.score = score
        }
    }

    /// What the decoded image was, before preprocessing.
    public struct ImageFacts: Sendable, Equatable {
        /// The file format: `png` or `jpeg`.
        public var format: String
        /// As stored in the file (before an EXIF orientation turns it).
        public var width: Int
        public var height: Int
        /// `gray`, `rgb`, `palette`, `gray_alpha` or `rgba` (PNG); `gray`, `rgb` or `cmyk` (JPEG).
        public var colorType: String
        public var bitDepth: Int
        /// Adam7 (PNG) or progressive (JPEG).
        public var interlaced: Bool
        /// An alpha channel or a tRNS chunk (never for JPEG).
        public var transparency: Bool

        public init(format: String = "png", width: Int, height: Int, colorType: String, bitDepth: Int, interlaced: Bool, transparency: Bool) {
            self.format = format
            self.width = width
            self.height = height
            self.colorType = colorType
            self.bitDepth = bitDepth
            self.interlaced = interlaced
            self.transparency = transparency
        }
    }

    /// Best first.
    public var labels: [Label]
    /// The pooled feature vector before the classifier head (result key `embedding`).
    public var features: [Float]
    public var image: ImageFacts?
    /// The preprocessing's name and every step applied, in order.
    public var preprocessing: (name: String, steps: [String])?
    /// The image heads' verdicts on `features`.
    public var heads: HeadOutputs?

    public init(labels: [Label], features: [Float], image: ImageFacts? = nil, preprocessing: (name: String, steps: [String])? = nil,
                heads: HeadOutputs? = nil) {
        self.labels = labels
        self.features = features
        self.image = image
        self.preprocessing = preprocessing
        self.heads = heads
    }

    public static func == (a: ClassificationOutput, b: ClassificationOutput) -> Bool {
        a.labels == b.labels && a.features == b.features && a.image == b.image
            && a.preprocessing?.name == b.preprocessing?.name && a.preprocessing?.steps == b.preprocessing?.steps && a.heads == b.heads
    }

    var json: JSONValue {
        let labels = labels.map { label in
            JSONValue.object([("index", .int(label.index)), ("label", .string(label.label)), ("score", .float(label.score))])
        }
        var members: [(key: String, value: JSONValue)] = [("labels", .array(labels)), ("embedding", .array(features.map(JSONValue.float)))]
        if let image {
            members.append(("image", .object([
                ("format", .string(image.format)), ("width", .int(image.width)), ("height", .int(image.height)), ("color_type", .string(image.colorType)),
                ("bit_depth", .int(image.bitDepth)), ("interlaced", .bool(image.interlaced)), ("transparency", .bool(image.transparency)),
            ])))
        }
        if let preprocessing {
            members.append(("preprocessing", .object([
                ("name", .string(preprocessing.name)), ("steps", .array(preprocessing.steps.map(JSONValue.string))),
            ])))
        }
        if let heads { members.append(("heads", heads.json)) }
        return .object(members)
    }
}

public struct TranscriptionOutput: Sendable, Equatable {
    public struct Segment: Sendable, Equatable {
        public var start: Double
        public var end: Double
        public var text: String
        /// Of the decoding window the segment came from (as faster-whisper reports them).
        public var averageLogProbability: Double?
        public var noSpeechProbability: Double?
        /// zlib ratio of the window's text; above 2.4 suggests a repetition loop.
        public var compressionRatio: Double?
        /// Its words, when the request asked for word timestamps.
        public var words: [Word]?

        public init(start: Double, end: Double, text: String, averageLogProbability: Double? = nil,
                    noSpeechProbability: Double? = nil, compressionRatio: Double? = nil, words: [Word]? = nil) {
            self.start = start
            self.end = end
            self.text = text
            self.averageLogProbability = averageLogProbability
            self.noSpeechProbability = noSpeechProbability
            self.compressionRatio = compressionRatio
            self.words = words
        }
    }

    /// A word with its times in seconds from the start of the file and the
    /// mean probability of its tokens (faster-whisper's `Word`), as the
    /// model's alignment gives it.
    public typealias Word = WhisperWord

    /// Seconds to the millisecond, for the JSON result: the computation keeps
    /// its exact sums (`2.8000000000000003`), readers get `2.8`.
    public static func milliseconds(_ seconds: Double) -> Double {
        guard seconds.isFinite else { return seconds }
        return (seconds * 1000).rounded() / 1000
    }

    public var text: String
    public var segments: [Segment]
    public var language: String
    public var durationSeconds: Double?
    /// The encoder states averaged over the frames that hold audio.
    public var embedding: [Float]?
    /// What decoding did or recovered (downmix, resampling, a truncated file).
    public var notes: [String]
    /// Subtitle files the request asked for, by format (`srt`, `vtt`, `txt`).
    public var subtitles: [(format: String, text: String)]
    /// Files to write beside the result in the outbox, by extension (not
    /// part of the JSON).
    public var files: [(format: SubtitleFormat, text: String)] = []
    /// The audio heads' verdicts on `embedding`.
    public var heads: HeadOutputs?

    public init(text: String, segments: [Segment], language: String, durationSeconds: Double? = nil, embedding: [Float]? = nil,
                notes: [String] = [], subtitles: [(format: String, text: String)] = [], heads: HeadOutputs? = nil) {
        self.text = text
        self.segments = segments
        self.language = language
        self.durationSeconds = durationSeconds
        self.embedding = embedding
        self.notes = notes
        self.subtitles = subtitles
        self.heads = heads
    }

    public static func == (a: TranscriptionOutput, b: TranscriptionOutput) -> Bool {
        a.text == b.text && a.segments == b.segments && a.language == b.language && a.durationSeconds == b.durationSeconds
            && a.embedding == b.embedding && a.notes == b.notes
            && a.subtitles.map(\.format) == b.subtitles.map(\.format) && a.subtitles.map(\.text) == b.subtitles.map(\.text)
            && a.files.map(\.format) == b.files.map(\.format) && a.files.map(\.text) == b.files.map(\.text)
            && a.heads == b.heads
    }

    var json: JSONValue {
        let segments = segments.map { segment in
            var members: [(key: String, value: JSONValue)] = [
                ("start", .double(Self.milliseconds(segment.start))), ("end", .double(Self.milliseconds(segment.end))), ("text", .string(segment.text)),
            ]
            if let value = segment.averageLogProbability { members.append(("avg_logprob", .double(value))) }
            if let value = segment.noSpeechProbability { members.append(("no_speech_prob", .double(value))) }
            if let value = segment.compressionRatio { members.append(("compression_ratio", .double(value))) }
            if let words = segment.words {
                members.append(("words", .array(words.map { word in
                    .object([("word", .string(word.word)), ("start", .double(Self.milliseconds(word.start))),
                             ("end", .double(Self.milliseconds(word.end))), ("probability", .double(word.probability))])
                })))
            }
            return JSONValue.object(members)
        }
        var members: [(key: String, value: JSONValue)] = [
            ("text", .string(text)), ("language", .string(language)), ("segments", .array(segments)),
        ]
        if let durationSeconds { members.append(("duration_s", .double(Self.milliseconds(durationSeconds)))) }
        if let embedding { members.append(("embedding", .array(embedding.map(JSONValue.float)))) }
        if !notes.isEmpty { members.append(("notes", .array(notes.map(JSONValue.string)))) }
        if !subtitles.isEmpty { members.append(("subtitles", .object(subtitles.map { ($0.format, JSONValue.string($0.text)) }))) }
        if let heads { members.append(("heads", heads.json)) }
        return .object(members)
    }
}

/// What `DiagnosticPipeline` reports instead of a model's answer.
public struct DiagnosticOutput: Sendable, Equatable {
    public var bytes: Int
    public var lines: Int?
    public var characters: Int?

    public init(bytes: Int, lines: Int?, characters: Int?) {
        self.bytes = bytes
        self.lines = lines
        self.characters = characters
    }
}

extension EmbeddingEncoding {
    /// A vector as this encoding writes it: numbers, or the base64 of its
    /// float32 values in little-endian order (what OpenAI clients decode).
    public func json(_ vector: [Float]) -> JSONValue {
        switch self {
        case .float:
            return .array(vector.map(JSONValue.float))
        case .base64:
            var bytes: [UInt8] = []
            bytes.reserveCapacity(vector.count * 4)
            for value in vector {
                let bits = value.bitPattern.littleEndian
                withUnsafeBytes(of: bits) { bytes.append(contentsOf: $0) }
            }
            return .string(Data(bytes).base64EncodedString())
        }
    }
}

/// A task's answer. Its JSON shape per task is fixed by the result schema.
public enum TaskOutput: Sendable, Equatable {
    case chat(ChatOutput)
    case completion(CompletionOutput)
    case embedding(EmbeddingOutput)
    case classification(ClassificationOutput)
    case transcription(TranscriptionOutput)
    case diagnostic(DiagnosticOutput)
    case training(TrainingOutput)
    case forgotten(ForgetOutput)

    public var json: JSONValue {
        switch self {
        case let .chat(output):
            // `message` and `finish_reason` are the first choice's (as before
            // `choices` existed); `choices` is the OpenAI shape, every choice.
            let choices = output.choices.enumerated().map { index, choice in
                JSONValue.object([
                    ("index", .int(index)),
                    ("message", .object([("role", .string("assistant")), ("content", .string(choice.text))])),
                    ("finish_reason", .string(choice.finishReason.rawValue)),
                ])
            }
            return .object([
                ("message", .object([("role", .string("assistant")), ("content", .string(output.content))])),
                ("finish_reason", .string(output.finishReason.rawValue)),
                ("choices", .array(choices)),
                ("usage", Self.usage(output.usage)),
            ] + (output.details?.members(promptTokens: output.usage.promptTokens) ?? [])
              + (output.textEmbedding.map { [("embedding", $0.json)] } ?? [])
              + (output.heads.map { [("heads", $0.json)] } ?? []))
        case let .completion(output):
            let choices = output.choices.enumerated().map { index, choice in
                JSONValue.object([("index", .int(index)), ("text", .string(choice.text)), ("finish_reason", .string(choice.finishReason.rawValue))])
            }
            return .object([
                ("text", .string(output.text)),
                ("finish_reason", .string(output.finishReason.rawValue)),
                ("choices", .array(choices)),
                ("usage", Self.usage(output.usage)),
            ] + (output.details?.members(promptTokens: output.usage.promptTokens) ?? [])
              + (output.textEmbedding.map { [("embedding", $0.json)] } ?? [])
              + (output.heads.map { [("heads", $0.json)] } ?? []))
        case let .embedding(output):
            let data = output.vectors.enumerated().map { index, vector in
                var members: [(key: String, value: JSONValue)] = [("index", .int(index)), ("embedding", output.encoding.json(vector))]
                if index < output.inputs.count {
                    let input = output.inputs[index]
                    members.append(("tokens", .int(input.tokens)))
                    if !input.windows.isEmpty {
                        members.append(("windows", .array(input.windows.map { window in
                            JSONValue.object([
                                ("pieces", .array([.int(window.pieces.lowerBound), .int(window.pieces.upperBound)])),
                                ("tokens", .int(window.tokens)), ("embedding", .array(window.vector.map(JSONValue.float))),
                            ])
                        })))
                    }
                    if let truncation = input.truncation {
                        members.append(("truncated", .object([
                            ("pieces_used", .int(truncation.piecesUsed)), ("pieces_total", .int(truncation.piecesTotal)),
                        ])))
                    }
                }
                return JSONValue.object(members)
            }
            var members: [(key: String, value: JSONValue)] = [
                ("data", .array(data)),
                ("dimensions", .int(output.vectors.first?.count ?? 0)),
            ]
            if let maxTokens = output.maxTokens { members.append(("max_tokens", .int(maxTokens))) }
            members.append(("usage", .object([("prompt_tokens", .int(output.promptTokens))])))
            if let heads = output.heads { members.append(("heads", .array(heads.map(\.json)))) }
            return .object(members)
        case let .classification(output):
            return output.json
        case let .transcription(output):
            return output.json
        case let .diagnostic(output):
            var members: [(key: String, value: JSONValue)] = [("bytes", .int(output.bytes))]
            if let lines = output.lines { members.append(("lines", .int(lines))) }
            if let characters = output.characters { members.append(("characters", .int(characters))) }
            return .object([("diagnostic", .object(members))])
        case let .training(output):
            return output.json
        case let .forgotten(output):
            return .object([("conversation", .string(output.conversation)), ("existed", .bool(output.existed)),
                            ("messages", .int(output.messages))])
        }
    }

    private static func usage(_ usage: TokenUsage) -> JSONValue {
        .object([("prompt_tokens", .int(usage.promptTokens)), ("completion_tokens", .int(usage.completionTokens)), ("total_tokens", .int(usage.totalTokens))])
    }
}
