import QuernJSON

/// Every hyper-parameter of a training run, with defaults that train a
/// good head on sentence embeddings without tuning. A plain struct: a CLI
/// sets it flag by flag, head.json records it through `jsonDescription`,
/// whose snake_case keys are the options' stable names.
public struct TrainingOptions: Sendable, Equatable {
    /// Passes over the training split (fewer if early stopping ends it).
    public var epochs: Int = 50
    /// Examples per mini-batch; the last batch of an epoch may be smaller.
    public var batchSize: Int = 64
    /// The base learning rate the schedule scales.
    public var learningRate: Double = 1e-3
    public var schedule: LearningRateSchedule = .constant
    /// The update rule and its hyper-parameters; its `weightDecay` is the
    /// L2 strength λ (coupled for SGD and Adam, decoupled for AdamW).
    public var optimiser = OptimiserSettings()
    /// Inverted-dropout probability on the MLP's hidden activations, or on
    /// a linear head's inputs; 0 for none. Never applied in evaluation.
    public var dropout: Double = 0
    /// Cross-entropy's class weights (classification only).
    public var classWeighting: ClassWeighting = .uniform
    /// Cross-entropy's label smoothing ε (classification only).
    public var labelSmoothing: Double = 0
    /// Seeds the initial weights (when none are given), the shuffling and
    /// the dropout masks: the same seed and thread count give the same head.
    public var seed: UInt64 = 0
    /// Early stopping: stop after this many epochs without a lower
    /// validation loss (nil: never stop early). Needs a validation split.
    public var patience: Int? = 10

    public init() {}

    /// The weight decay λ (a shortcut to `optimiser.weightDecay`).
    public var weightDecay: Double {
        get { optimiser.weightDecay }
        set { optimiser.weightDecay = newValue }
    }

    /// Refuses an option outside its range, naming it as `jsonDescription` does.
    public func validate() throws(LearningError) {
        guard epochs >= 1 else { throw LearningError(.invalidParameter, "epochs must be at least 1, got \(epochs)") }
        guard batchSize >= 1 else { throw LearningError(.invalidParameter, "batch_size must be at least 1, got \(batchSize)") }
        guard learningRate > 0, learningRate.isFinite else {
            throw LearningError(.invalidParameter, "learning_rate must be positive, got \(learningRate)")
        }
        try schedule.validate(baseLearningRate: learningRate)
        try optimiser.validate()
        guard dropout >= 0, dropout < 1 else { throw LearningError(.invalidParameter, "dropout must be in [0, 1), got \(dropout)") }
        guard labelSmoothing >= 0, labelSmoothing <= 1 else {
            throw LearningError(.invalidParameter, "label_smoothing must be in [0, 1], got \(labelSmoothing)")
        }
        if case let .custom(weights) = classWeighting, !weights.allSatisfy({ $0 > 0 && $0.isFinite }) {
            throw LearningError(.invalidParameter, "class_weights must all be positive and finite, got \(weights)")
        }
        if let patience, patience < 1 { throw LearningError(.invalidParameter, "patience must be at least 1, got \(patience)") }
    }

    /// Every hyper-parameter under its stable snake_case name, for head.json.
    public var jsonDescription: JSONValue {
        .object([
            ("epochs", .int(epochs)),
            ("batch_size", .int(batchSize)),
            ("learning_rate", .double(learningRate)),
            ("schedule", schedule.jsonDescription),
            ("optimiser", .string(optimiser.kind.rawValue)),
            ("momentum", .double(optimiser.momentum)),
            ("nesterov", .bool(optimiser.nesterov)),
            ("beta1", .double(optimiser.beta1)),
            ("beta2", .double(optimiser.beta2)),
            ("epsilon", .double(optimiser.epsilon)),
            ("weight_decay", .double(optimiser.weightDecay)),
            ("dropout", .double(dropout)),
            ("class_weights", classWeighting.jsonDescription),
            ("label_smoothing", .double(labelSmoothing)),
            ("seed", .int(seed)),
            ("patience", patience.map(JSONValue.int) ?? .null),
        ])
    }
}
