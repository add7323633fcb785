import QuernJSON

// The JSON files of a Hugging Face causal-LM folder, typed as transformers
// writes them. Keys a file may leave out are optional here; the model that
// reads a struct decides the default (the one transformers uses). Only the
// keys Quern reads are declared; the others are ignored.

/// The part of any `config.json` that says which architecture reads the rest.
public struct HuggingFaceModelType: Decodable, Sendable, Equatable {
    /// `model_type`: `llama`, `gpt2`, `bert`, `whisper`, `resnet`, ….
    public var modelType: String?
    /// Class names such as `LlamaForCausalLM`; the loaders key on `model_type`.
    public var architectures: [String]?

    enum CodingKeys: String, CodingKey {
        case modelType = "model_type", architectures
    }
}

/// `config.json` of a `LlamaForCausalLM` (also Mistral, SmolLM2).
public struct LlamaConfigFile: Decodable, Sendable, Equatable {
    public var vocabSize: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    /// nil: as many as the query heads (no grouped-query attention).
    public var numKeyValueHeads: Int?
    /// nil: hidden_size / num_attention_heads.
    public var headDim: Int?
    /// transformers 4.x writes `rope_theta` at the top level …
    public var ropeTheta: Double?
    /// … transformers 5 inside `rope_parameters`.
    public var ropeParameters: RopeParameters?
    public var rmsNormEps: Double?
    public var maxPositionEmbeddings: Int?
    public var eosTokenID: TokenIDs?
    public var bosTokenID: Int?

    public struct RopeParameters: Decodable, Sendable, Equatable {
        public var ropeTheta: Double?
        enum CodingKeys: String, CodingKey {
            case ropeTheta = "rope_theta"
        }
    }

    enum CodingKeys: String, CodingKey {
        case vocabSize = "vocab_size", hiddenSize = "hidden_size", intermediateSize = "intermediate_size"
        case numHiddenLayers = "num_hidden_layers", numAttentionHeads = "num_attention_heads"
        case numKeyValueHeads = "num_key_value_heads", headDim = "head_dim"
        case ropeTheta = "rope_theta", ropeParameters = "rope_parameters", rmsNormEps = "rms_norm_eps"
        case maxPositionEmbeddings = "max_position_embeddings"
        case eosTokenID = "eos_token_id", bosTokenID = "bos_token_id"
    }
}

/// `config.json` of a `GPT2LMHeadModel`.
public struct GPT2ConfigFile: Decodable, Sendable, Equatable {
    public var vocabSize: Int
    public var nEmbd: Int
    public var nHead: Int
    public var nLayer: Int
    public var nPositions: Int
    /// nil (or null, as the hub's files write it): 4 × n_embd.
    public var nInner: Int?
    public var layerNormEpsilon: Double?
    public var eosTokenID: TokenIDs?
    public var bosTokenID: Int?

    enum CodingKeys: String, CodingKey {
        case vocabSize = "vocab_size", nEmbd = "n_embd", nHead = "n_head", nLayer = "n_layer", nPositions = "n_positions"
        case nInner = "n_inner", layerNormEpsilon = "layer_norm_epsilon"
        case eosTokenID = "eos_token_id", bosTokenID = "bos_token_id"
    }
}

/// `generation_config.json`: the tokens that start and end generation, and
/// (Whisper) the tokens never to generate.
public struct GenerationConfigFile: Decodable, Sendable, Equatable {
    public var eosTokenID: TokenIDs?
    public var bosTokenID: Int?
    public var suppressTokens: [Int]?
    public var beginSuppressTokens: [Int]?
    /// Whisper: [decoder layer, head] pairs for word timestamps.
    public var alignmentHeads: [[Int]]?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case eosTokenID = "eos_token_id", bosTokenID = "bos_token_id"
        case suppressTokens = "suppress_tokens", beginSuppressTokens = "begin_suppress_tokens"
        case alignmentHeads = "alignment_heads"
    }
}

/// `tokenizer_config.json`: the chat template and whether prompts start with BOS.
public struct TokenizerConfigFile: Decodable, Sendable, Equatable {
    /// A Jinja template, or in some files a list of named templates, which
    /// Quern does not read: kept as parsed and read only when it is a string.
    public var chatTemplate: JSONValue?
    public var addBOSToken: Bool?

    public init() {}

    /// The template when the file gives one as a string.
    public var chatTemplateText: String? { chatTemplate?.stringValue }

    enum CodingKeys: String, CodingKey {
        case chatTemplate = "chat_template", addBOSToken = "add_bos_token"
    }
}

/// `eos_token_id`: one id or a list of them.
public struct TokenIDs: Decodable, Sendable, Equatable {
    public var ids: [Int]

    public init(_ ids: [Int]) { self.ids = ids }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if case .array = try container.decode(JSONValue.self) {
            ids = try container.decode([Int].self)
        } else {
            ids = [try container.decode(Int.self)]
        }
    }
}
