// The JSON files of a sentence-transformers folder, typed as BERT's
// transformers config and sentence-transformers write them. Keys a file may
// leave out are optional; the reader applies the reference's default.

/// `config.json` of a `BertModel`.
public struct BERTConfigFile: Decodable, Sendable, Equatable {
    public var modelType: String?
    /// nil: `gelu` (the erf form).
    public var hiddenAct: String?
    /// nil: `absolute`.
    public var positionEmbeddingType: String?
    public var vocabSize: Int
    public var hiddenSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    public var intermediateSize: Int
    public var maxPositionEmbeddings: Int
    /// nil: 2.
    public var typeVocabSize: Int?
    /// nil: 1e-12.
    public var layerNormEps: Double?

    enum CodingKeys: String, CodingKey {
        case modelType = "model_type", hiddenAct = "hidden_act", positionEmbeddingType = "position_embedding_type"
        case vocabSize = "vocab_size", hiddenSize = "hidden_size", numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads", intermediateSize = "intermediate_size"
        case maxPositionEmbeddings = "max_position_embeddings", typeVocabSize = "type_vocab_size", layerNormEps = "layer_norm_eps"
    }
}

/// One entry of `modules.json`: the module's class and its sub-folder.
public struct SentenceTransformersModule: Decodable, Sendable, Equatable {
    /// e.g. `sentence_transformers.models.Pooling`.
    public var type: String?
    /// The module's folder, relative to the model folder ("" for the folder itself).
    public var path: String?
}

/// `1_Pooling/config.json`: which pooling modes are on.
public struct PoolingConfigFile: Decodable, Sendable, Equatable {
    public var meanTokens: Bool?
    public var clsToken: Bool?
    public var maxTokens: Bool?
    public var meanSqrtLengthTokens: Bool?
    public var weightedMeanTokens: Bool?
    public var lastToken: Bool?

    public init(meanTokens: Bool? = nil, clsToken: Bool? = nil, maxTokens: Bool? = nil, meanSqrtLengthTokens: Bool? = nil,
                weightedMeanTokens: Bool? = nil, lastToken: Bool? = nil) {
        self.meanTokens = meanTokens
        self.clsToken = clsToken
        self.maxTokens = maxTokens
        self.meanSqrtLengthTokens = meanSqrtLengthTokens
        self.weightedMeanTokens = weightedMeanTokens
        self.lastToken = lastToken
    }

    enum CodingKeys: String, CodingKey {
        case meanTokens = "pooling_mode_mean_tokens", clsToken = "pooling_mode_cls_token", maxTokens = "pooling_mode_max_tokens"
        case meanSqrtLengthTokens = "pooling_mode_mean_sqrt_len_tokens"
        case weightedMeanTokens = "pooling_mode_weightedmean_tokens", lastToken = "pooling_mode_lasttoken"
    }
}

/// `sentence_bert_config.json`.
public struct SentenceBERTConfigFile: Decodable, Sendable, Equatable {
    /// Tokens per model input, special tokens included (nil: the model's positions).
    public var maxSeqLength: Int?
    /// Lower-case texts before tokenizing (nil: no).
    public var doLowerCase: Bool?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case maxSeqLength = "max_seq_length", doLowerCase = "do_lower_case"
    }
}
