/// `config.json` of a Hugging Face `ResNetForImageClassification`.
public struct ResNetConfigFile: Decodable, Sendable, Equatable {
    public var modelType: String?
    /// nil: relu.
    public var hiddenAct: String?
    /// Blocks per stage.
    public var depths: [Int]
    /// Output channels per stage.
    public var hiddenSizes: [Int]
    /// `basic` or `bottleneck` (nil: bottleneck).
    public var layerType: String?
    /// ResNet v1 (stride in the first 1×1 convolution) rather than v1.5.
    public var downsampleInBottleneck: Bool?
    public var downsampleInFirstStage: Bool?
    /// Class names by id, the ids written as strings ("0", "1", …).
    public var id2label: [String: String]?
    /// The stem convolution's output channels.
    public var embeddingSize: Int?

    enum CodingKeys: String, CodingKey {
        case modelType = "model_type", hiddenAct = "hidden_act", depths, hiddenSizes = "hidden_sizes", layerType = "layer_type"
        case downsampleInBottleneck = "downsample_in_bottleneck", downsampleInFirstStage = "downsample_in_first_stage"
        case id2label, embeddingSize = "embedding_size"
    }
}
