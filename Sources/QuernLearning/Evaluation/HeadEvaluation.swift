import Foundation
import QuernJSON
import QuernTensor

/// A head's evaluation on a labelled set: the classification metrics or the
/// regression ones, whichever its task calls for.
public enum HeadEvaluation: Sendable {
    case classification(ClassificationEvaluation)
    case regression(RegressionEvaluation)

    /// Runs `head` on raw `features` [N, D] and measures it against `targets`
    /// (class indices in the head's class order, or values).
    public init(head: Head, features: Tensor, targets: TrainingTargets) throws(LearningError) {
        let outputs = try head.predict(features)
        switch (head.architecture.task, targets) {
        case let (.classification, .classes(labels)):
            self = .classification(try ClassificationEvaluation(classes: head.classes, trueLabels: labels, probabilities: outputs))
        case let (.regression, .values(values)):
            self = .regression(try RegressionEvaluation(trueValues: values.map(Double.init), predictedValues: outputs.scalars.map(Double.init)))
        default:
            throw LearningError(.shapeMismatch, "a \(head.architecture.task.rawValue) head cannot be evaluated on \(targets.kindName) targets")
        }
    }

    public var json: JSONValue {
        switch self {
        case let .classification(evaluation): return evaluation.json
        case let .regression(evaluation): return evaluation.json
        }
    }

    /// The readable report for a terminal.
    public func textReport() -> String {
        switch self {
        case let .classification(evaluation): return evaluation.textReport()
        case let .regression(evaluation): return evaluation.textReport()
        }
    }

    /// The one-line summary a log or progress line gives.
    public var summary: String {
        switch self {
        case let .classification(evaluation):
            let auc = evaluation.rocAUC.value.map { String(format: ", ROC-AUC %.4f", $0) } ?? ""
            return String(format: "accuracy %.4f, macro F1 %.4f", evaluation.accuracy, evaluation.macro.f1) + auc
        case let .regression(evaluation):
            let r2 = evaluation.r2.map { String(format: ", R² %.4f", $0) } ?? ""
            return String(format: "MAE %.4f, RMSE %.4f", evaluation.meanAbsoluteError, evaluation.rootMeanSquaredError) + r2
        }
    }
}
