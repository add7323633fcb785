import QuernJSON

/// How cross-entropy weighs the classes: equally, inversely to their
/// frequency in the training split (for imbalanced data), or as given.
public enum ClassWeighting: Sendable, Equatable {
    case uniform
    /// scikit-learn's `class_weight="balanced"`: w_c = n / (C · count_c).
    case balanced
    /// One positive weight per class, in class order.
    case custom([Double])

    /// The weights for a training split with `classCounts` examples per
    /// class; nil for uniform (PyTorch's `weight=None`).
    public func weights(classCounts: [Int]) throws(LearningError) -> [Double]? {
        switch self {
        case .uniform: return nil
        case .balanced: return try ClassWeighting.balancedWeights(classCounts: classCounts)
        case let .custom(weights):
            guard weights.count == classCounts.count else {
                throw LearningError(.invalidParameter, "class_weights has \(weights.count) values for \(classCounts.count) classes")
            }
            return weights
        }
    }

    /// n / (C · count_c) for every class c, where n is the number of
    /// examples and C the number of classes (scikit-learn's
    /// `compute_class_weight("balanced", …)`). Every class needs an example.
    public static func balancedWeights(classCounts: [Int]) throws(LearningError) -> [Double] {
        guard !classCounts.isEmpty else { throw LearningError(.invalidDataset, "balanced class weights need at least one class") }
        if let empty = classCounts.firstIndex(where: { $0 <= 0 }) {
            throw LearningError(.invalidDataset, "class \(empty) has no training example, so it has no balanced weight")
        }
        let total = Double(classCounts.reduce(0, +))
        let classes = Double(classCounts.count)
        return classCounts.map { total / (classes * Double($0)) }
    }

    /// "uniform", "balanced" or the list of weights.
    public var jsonDescription: JSONValue {
        switch self {
        case .uniform: return .string("uniform")
        case .balanced: return .string("balanced")
        case let .custom(weights): return .array(weights.map(JSONValue.double))
        }
    }
}
