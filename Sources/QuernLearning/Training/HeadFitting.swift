import QuernTensor

/// Raw feature rows and their targets: a split of a dataset before
/// standardisation.
public struct LabelledFeatures: Sendable {
    /// [N, D], as the feature model gave them.
    public var features: Tensor
    public var targets: TrainingTargets

    public init(features: Tensor, targets: TrainingTargets) {
        self.features = features
        self.targets = targets
    }

    public var count: Int { features.shape.first ?? 0 }

    /// The rows at `indices`, in that order.
    public func selecting(_ indices: [Int]) -> LabelledFeatures {
        let width = features.shape[1]
        let gathered = Tensor(zeros: [indices.count, width])
        for (row, index) in indices.enumerated() { gathered.row(row).assign(features.row(index)) }
        return LabelledFeatures(features: gathered, targets: targets.selecting(indices))
    }
}

/// From a training split to a head: the standardisation is learnt on the
/// training rows only (never on validation or test rows, which would leak
/// them into the head), both splits are standardised with it, and the
/// trainer runs.
public enum HeadFitting {
    public static func fit(
        architecture: HeadArchitecture, classes: [String], options: TrainingOptions,
        training: LabelledFeatures, validation: LabelledFeatures?, progress: (EpochRecord) -> Void = { _ in }
    ) throws(LearningError) -> (head: Head, result: TrainingResult) {
        let standardisation = try Standardisation(fitting: training.features)
        let trainer = try Trainer(architecture: architecture, options: options)
        let trainingExamples = try TrainingExamples(features: try standardisation.apply(training.features), targets: training.targets)
        let validationExamples = try validation.map { split throws(LearningError) in
            try TrainingExamples(features: try standardisation.apply(split.features), targets: split.targets)
        }
        let result = try trainer.train(trainingExamples, validation: validationExamples, progress: progress)
        let head = try Head(architecture: architecture, classes: classes, standardisation: standardisation, parameters: result.parameters)
        return (head, result)
    }
}
