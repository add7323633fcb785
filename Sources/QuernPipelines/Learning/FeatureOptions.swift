/// Where features come from.
public struct FeatureOptions: Sendable, Equatable {
    /// `--models`: the kind's default model folder is looked up here, as the
    /// daemon does (`ModelRegistry.defaultModels`).
    public var modelsDirectory: String
    /// A model file or folder to use instead of the default (e.g. another
    /// ResNet checkpoint: any of them gives its pooled features).
    public var modelPath: String?
    /// Texts longer than the embedder's input: false (the default, as a
    /// plain-text file or an `embed` request) embeds windows covering all of
    /// it and averages them; true embeds only its beginning.
    public var truncateLongTexts: Bool
    /// The daemon's input limits, held to again while decoding.
    public var limits: InputLimits

    public init(modelsDirectory: String, modelPath: String? = nil, truncateLongTexts: Bool = false, limits: InputLimits = InputLimits()) {
        self.modelsDirectory = modelsDirectory
        self.modelPath = modelPath
        self.truncateLongTexts = truncateLongTexts
        self.limits = limits
    }
}
