import QuernTensor

/// What a head learns to predict for each example: a class index
/// (classification) or a number (regression).
public enum TrainingTargets: Sendable, Equatable {
    case classes([Int])
    case values([Float])

    public var count: Int {
        switch self {
        case let .classes(classes): return classes.count
        case let .values(values): return values.count
        }
    }

    var kindName: String {
        switch self {
        case .classes: return "class"
        case .values: return "numeric"
        }
    }

    /// The targets of the examples at `indices`, in that order.
    func selecting(_ indices: [Int]) -> TrainingTargets {
        switch self {
        case let .classes(classes): return .classes(indices.map { classes[$0] })
        case let .values(values): return .values(indices.map { values[$0] })
        }
    }
}

/// Examples to train or validate on: standardised features [N, D] and one
/// target per row.
public struct TrainingExamples: Sendable {
    public var features: Tensor
    public var targets: TrainingTargets

    public init(features: Tensor, targets: TrainingTargets) throws(LearningError) {
        guard features.rank == 2, features.shape[0] > 0 else {
            throw LearningError(.shapeMismatch, "training features must be [examples, features] with at least one example, got \(features.shape)")
        }
        guard targets.count == features.shape[0] else {
            throw LearningError(.shapeMismatch, "\(features.shape[0]) feature rows but \(targets.count) targets")
        }
        self.features = features
        self.targets = targets
    }

    public var count: Int { features.shape[0] }

    /// Checks the examples fit `architecture`: feature width, target kind,
    /// class indices in range, finite values everywhere. `role` names the
    /// split in messages ("training", "validation").
    func validate(for architecture: HeadArchitecture, role: String) throws(LearningError) {
        guard features.shape[1] == architecture.inputWidth else {
            throw LearningError(.shapeMismatch, "the \(role) features have \(features.shape[1]) values per example, the head takes \(architecture.inputWidth)")
        }
        guard features.scalars.allSatisfy(\.isFinite) else {
            throw LearningError(.invalidDataset, "the \(role) features contain a non-finite value")
        }
        switch (architecture.task, targets) {
        case let (.classification, .classes(classes)):
            if let bad = classes.first(where: { $0 < 0 || $0 >= architecture.outputWidth }) {
                throw LearningError(.invalidDataset, "a \(role) target is class \(bad), the head has classes 0..<\(architecture.outputWidth)")
            }
        case let (.regression, .values(values)):
            guard values.allSatisfy(\.isFinite) else {
                throw LearningError(.invalidDataset, "a \(role) target value is not finite")
            }
        default:
            throw LearningError(.invalidDataset, "a \(architecture.task.rawValue) head cannot learn \(targets.kindName) targets")
        }
    }

    /// Examples per class (classification), for balanced class weights.
    func classCounts(classes count: Int) -> [Int] {
        var counts = [Int](repeating: 0, count: count)
        if case let .classes(classes) = targets {
            for target in classes { counts[target] += 1 }
        }
        return counts
    }
}
