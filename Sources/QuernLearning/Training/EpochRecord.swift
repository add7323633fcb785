/// What one epoch of training measured: the training trainer's history,
/// printed as it goes, stored in head.json and drawn in report.svg.
public struct EpochRecord: Sendable, Equatable {
    /// 1-based.
    public var epoch: Int
    /// Mean training loss over the epoch's mini-batches (with dropout and
    /// regularisation as trained).
    public var trainLoss: Double
    /// Loss on the validation split after the epoch, nil without one.
    public var validationLoss: Double?
    /// Accuracy on the training split (classification), nil for regression.
    public var trainAccuracy: Double?
    public var validationAccuracy: Double?
    /// The learning rate of the epoch's last step.
    public var learningRate: Double

    public init(epoch: Int, trainLoss: Double, validationLoss: Double? = nil, trainAccuracy: Double? = nil,
                validationAccuracy: Double? = nil, learningRate: Double) {
        self.epoch = epoch
        self.trainLoss = trainLoss
        self.validationLoss = validationLoss
        self.trainAccuracy = trainAccuracy
        self.validationAccuracy = validationAccuracy
        self.learningRate = learningRate
    }
}
