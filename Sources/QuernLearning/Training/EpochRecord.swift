/// What one epoch of training measured: the trainer's history,
/// printed as it goes, stored in head.json and drawn in report.svg.
public struct EpochRecord: Sendable, Equatable {
    /// 1-based.
    public var epoch: Int
    /// The mini-batches' losses averaged over the epoch's examples, as
    /// trained (dropout on, class weights and smoothing included); the
    /// weight-decay term is the optimiser's, not part of the loss.
    public var trainLoss: Double
    /// The same loss on the validation split after the epoch (no dropout),
    /// nil without one. Early stopping watches it.
    public var validationLoss: Double?
    /// Accuracy on the training split (classification), counted on the
    /// mini-batches' outputs as trained; nil for regression.
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
