/// What a training run produced.
public struct TrainingResult: Sendable {
    /// The weights to keep: those of the epoch with the lowest validation
    /// loss when there was a validation split, else those after the last epoch.
    public var parameters: HeadParameters
    /// One record per epoch run, in order.
    public var history: [EpochRecord]
    /// The 1-based epoch `parameters` come from.
    public var bestEpoch: Int
    /// Whether early stopping ended the run before its last epoch.
    public var stoppedEarly: Bool
    /// The loss as trained, with the class weights resolved (balanced
    /// weights computed from the training split).
    public var loss: LossFunction
}
