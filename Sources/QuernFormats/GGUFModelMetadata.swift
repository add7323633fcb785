/// What a language model's GGUF file says about the model, under the
/// standardized keys of the GGUF specification, typed and read in one place
/// — the counterpart of a Hugging Face folder's `config.json` structs.
///
/// Keys the specification makes optional are nil when absent, and each
/// model decides its own default; a key that is present with the wrong type
/// is an error naming it, as is a missing required key.
public struct GGUFHyperparameters: Sendable, Equatable {
    /// The file, for errors.
    public var path: String
    /// `general.architecture`; the other keys are `<architecture>.…`.
    public var architecture: String
    public var embeddingLength: Int
    public var blockCount: Int
    public var headCount: Int
    public var headCountKV: Int?
    /// `attention.key_length`: the head dimension, when not width / heads.
    public var keyLength: Int?
    public var feedForwardLength: Int?
    public var contextLength: Int?
    public var vocabularySize: Int?
    public var ropeFrequencyBase: Double?
    public var ropeDimensionCount: Int?
    public var layerNormEpsilon: Double?
    public var layerNormRMSEpsilon: Double?
    /// Entries of `tokenizer.ggml.tokens` (nil without a tokenizer): the
    /// vocabulary size when the architecture does not state one.
    public var tokenCount: Int?

    /// `expected`, when given, is the one architecture the caller reads:
    /// another is refused before any of its keys is looked at.
    public init(gguf: GGUFFile, expected: String? = nil) throws(FormatError) {
        path = gguf.path
        let architecture = try gguf.string("general.architecture")
        if let expected, architecture != expected {
            throw FormatError(.unsupportedType, file: path, "architecture \(architecture) is not \(expected)")
        }
        self.architecture = architecture
        let prefix = architecture + "."
        embeddingLength = try gguf.integer(prefix + "embedding_length")
        blockCount = try gguf.integer(prefix + "block_count")
        headCount = try gguf.integer(prefix + "attention.head_count")
        headCountKV = try gguf.optionalInteger(prefix + "attention.head_count_kv")
        keyLength = try gguf.optionalInteger(prefix + "attention.key_length")
        feedForwardLength = try gguf.optionalInteger(prefix + "feed_forward_length")
        contextLength = try gguf.optionalInteger(prefix + "context_length")
        vocabularySize = try gguf.optionalInteger(prefix + "vocab_size")
        ropeFrequencyBase = try gguf.optionalFloat(prefix + "rope.freq_base")
        ropeDimensionCount = try gguf.optionalInteger(prefix + "rope.dimension_count")
        layerNormEpsilon = try gguf.optionalFloat(prefix + "attention.layer_norm_epsilon")
        layerNormRMSEpsilon = try gguf.optionalFloat(prefix + "attention.layer_norm_rms_epsilon")
        switch gguf.metadata[GGUFTokenizerMetadata.tokensKey] {
        case nil: tokenCount = nil
        case .array(let tokens)?: tokenCount = tokens.count
        case .some: throw FormatError(.invalidValue, file: path, "metadata \(GGUFTokenizerMetadata.tokensKey) is not an array")
        }
    }

    /// The error for a key a model needs and the file leaves out; `suffix`
    /// is the part after `<architecture>.`.
    public func missing(_ suffix: String) -> FormatError {
        FormatError(.invalidValue, file: path, "metadata \(architecture).\(suffix) is missing")
    }
}

/// The tokenizer a GGUF file carries (`tokenizer.ggml.*`) and the chat
/// template beside it, typed and read in one place.
public struct GGUFTokenizerMetadata: Sendable, Equatable {
    static let tokensKey = "tokenizer.ggml.tokens"

    /// `tokenizer.ggml.model`: `gpt2` for byte-level BPE, `llama` for SentencePiece, ….
    public var model: String
    public var tokens: [String]
    /// One llama.cpp token type per token (nil: all normal).
    public var tokenTypes: [Int]?
    /// BPE merges, `"a b"` each (nil for tokenizers without merges).
    public var merges: [String]?
    /// `tokenizer.ggml.pre`: which pre-tokenizer rules the model was trained with.
    public var preTokenizer: String?
    public var beginTokenID: Int?
    public var endTokenID: Int?
    public var endOfTurnTokenID: Int?
    /// `tokenizer.ggml.add_bos_token` (nil: not stated).
    public var addBeginToken: Bool?
    /// `tokenizer.chat_template`, the model's Jinja template.
    public var chatTemplate: String?

    public init(gguf: GGUFFile) throws(FormatError) {
        model = try gguf.string("tokenizer.ggml.model")
        tokens = try gguf.strings(Self.tokensKey)
        tokenTypes = gguf.metadata["tokenizer.ggml.token_type"] == nil ? nil : try gguf.integers("tokenizer.ggml.token_type")
        merges = gguf.metadata["tokenizer.ggml.merges"] == nil ? nil : try gguf.strings("tokenizer.ggml.merges")
        preTokenizer = gguf.metadata["tokenizer.ggml.pre"] == nil ? nil : try gguf.string("tokenizer.ggml.pre")
        beginTokenID = try gguf.optionalInteger("tokenizer.ggml.bos_token_id")
        endTokenID = try gguf.optionalInteger("tokenizer.ggml.eos_token_id")
        endOfTurnTokenID = try gguf.optionalInteger("tokenizer.ggml.eot_token_id")
        switch gguf.metadata["tokenizer.ggml.add_bos_token"] {
        case nil: addBeginToken = nil
        case .bool(let flag)?: addBeginToken = flag
        case .some: throw FormatError(.invalidValue, file: gguf.path, "metadata tokenizer.ggml.add_bos_token is not a boolean")
        }
        chatTemplate = gguf.metadata["tokenizer.chat_template"] == nil ? nil : try gguf.string("tokenizer.chat_template")
    }
}
