import QuernJSON

/// What training minimises, defined exactly as PyTorch defines it with the
/// default mean reduction, so a run can be checked against PyTorch step by
/// step. Values are accumulated in Double whatever the outputs' precision.
public enum LossFunction: Sendable, Equatable {
    /// `nn.CrossEntropyLoss(weight: classWeights, label_smoothing: labelSmoothing)`
    /// over a classification head's logits: see `CrossEntropyLoss`.
    case crossEntropy(classWeights: [Double]?, labelSmoothing: Double)
    /// `nn.MSELoss()` over a regression head's values.
    case meanSquaredError

    /// Unweighted, unsmoothed cross-entropy (the log loss).
    public static let crossEntropy = LossFunction.crossEntropy(classWeights: nil, labelSmoothing: 0)

    /// The loss for `task`'s head, with the class weights and label
    /// smoothing a classification head is trained with.
    public static func forTask(_ task: HeadTask, classWeights: [Double]?, labelSmoothing: Double) -> LossFunction {
        task == .classification ? .crossEntropy(classWeights: classWeights, labelSmoothing: labelSmoothing) : .meanSquaredError
    }

    /// Checks the loss fits a head with `outputWidth` outputs.
    public func validate(outputWidth: Int) throws(LearningError) {
        guard case let .crossEntropy(classWeights, labelSmoothing) = self else { return }
        guard labelSmoothing >= 0, labelSmoothing <= 1 else {
            throw LearningError(.invalidParameter, "label_smoothing must be in [0, 1], got \(labelSmoothing)")
        }
        if let classWeights {
            guard classWeights.count == outputWidth else {
                throw LearningError(.invalidParameter, "class_weights has \(classWeights.count) values for \(outputWidth) classes")
            }
            guard classWeights.allSatisfy({ $0 > 0 && $0.isFinite }) else {
                throw LearningError(.invalidParameter, "class_weights must all be positive and finite, got \(classWeights)")
            }
        }
    }

    /// The mean loss of a batch: `outputs` holds its rows [B, width]
    /// row-major, `targets` one target per row.
    public func value<Output: BinaryFloatingPoint>(outputs: [Output], width: Int, targets: TrainingTargets) -> Double {
        evaluate(outputs: outputs, width: width, targets: targets, computeGradient: false).value
    }

    /// The mean loss of a batch and its gradient with respect to every
    /// output (same layout as `outputs`).
    public func valueAndGradient(outputs: [Float], width: Int, targets: TrainingTargets) -> (value: Double, gradient: [Float]) {
        let result = evaluate(outputs: outputs, width: width, targets: targets, computeGradient: true)
        return (result.value, result.gradient.map { Float($0) })
    }

    private func evaluate<Output: BinaryFloatingPoint>(outputs: [Output], width: Int, targets: TrainingTargets,
                                                        computeGradient: Bool) -> LossEvaluation {
        precondition(width > 0 && outputs.count == targets.count * width,
                     "loss: \(outputs.count) outputs for \(targets.count) targets of width \(width)")
        switch (self, targets) {
        case let (.crossEntropy(classWeights, labelSmoothing), .classes(classes)):
            return CrossEntropyLoss(classWeights: classWeights, labelSmoothing: labelSmoothing)
                .evaluate(logits: outputs, classCount: width, targets: classes, computeGradient: computeGradient)
        case let (.meanSquaredError, .values(values)):
            return MeanSquaredErrorLoss.evaluate(outputs: outputs, width: width, targets: values, computeGradient: computeGradient)
        default:
            preconditionFailure("loss \(self) cannot take \(targets.kindName) targets")
        }
    }

    /// How head.json names the loss: `{"name": "cross_entropy",
    /// "class_weights": [...] | null, "label_smoothing": ε}` or `{"name": "mse"}`.
    public var jsonDescription: JSONValue {
        switch self {
        case let .crossEntropy(classWeights, labelSmoothing):
            return .object([
                ("name", .string("cross_entropy")),
                ("class_weights", classWeights.map { .array($0.map(JSONValue.double)) } ?? .null),
                ("label_smoothing", .double(labelSmoothing)),
            ])
        case .meanSquaredError:
            return .object([("name", .string("mse"))])
        }
    }
}

/// A batch's mean loss and, when asked for, its gradient with respect to
/// each output (empty otherwise).
struct LossEvaluation {
    var value: Double
    var gradient: [Double]
}
