// The JSON files of a Whisper folder besides the weights, typed.
// (`generation_config.json` is `GenerationConfigFile`.)

/// `config.json` of a Hugging Face `WhisperForConditionalGeneration`.
public struct WhisperConfigFile: Decodable, Sendable, Equatable {
    public var modelType: String?
    /// nil: `gelu` (the erf form).
    public var activationFunction: String?
    public var scaleEmbedding: Bool?
    public var vocabSize: Int
    public var dModel: Int
    public var encoderLayers: Int
    public var decoderLayers: Int
    public var encoderAttentionHeads: Int
    public var decoderAttentionHeads: Int
    public var decoderFFNDim: Int
    /// nil: the decoder's.
    public var encoderFFNDim: Int?
    public var numMelBins: Int
    public var maxSourcePositions: Int
    public var maxTargetPositions: Int

    enum CodingKeys: String, CodingKey {
        case modelType = "model_type", activationFunction = "activation_function", scaleEmbedding = "scale_embedding"
        case vocabSize = "vocab_size", dModel = "d_model", encoderLayers = "encoder_layers", decoderLayers = "decoder_layers"
        case encoderAttentionHeads = "encoder_attention_heads", decoderAttentionHeads = "decoder_attention_heads"
        case decoderFFNDim = "decoder_ffn_dim", encoderFFNDim = "encoder_ffn_dim", numMelBins = "num_mel_bins"
        case maxSourcePositions = "max_source_positions", maxTargetPositions = "max_target_positions"
    }
}

/// `config.json` beside a CTranslate2 Whisper `model.bin` (written by
/// CTranslate2's converter): the tokens never to generate.
public struct WhisperCTranslate2ConfigFile: Decodable, Sendable, Equatable {
    public var suppressIDs: [Int]?
    /// Not to generate as the first token.
    public var suppressIDsBegin: [Int]?
    /// [decoder layer, head] pairs whose cross-attention follows the words'
    /// timing (word timestamps).
    public var alignmentHeads: [[Int]]?

    enum CodingKeys: String, CodingKey {
        case suppressIDs = "suppress_ids", suppressIDsBegin = "suppress_ids_begin", alignmentHeads = "alignment_heads"
    }
}
