/// One class's precision, recall, F1 and support, with its one-vs-rest
/// ROC-AUC when that is defined.
public struct ClassMetrics: Sendable, Equatable {
    public var precision: Double
    public var recall: Double
    public var f1: Double
    /// Examples of the class in the test set.
    public var support: Int
    /// The class's scores against the rest; nil when the test set has no
    /// example of the class, or nothing but the class.
    public var rocAUC: Double?
}

/// Precision, recall and F1 averaged over the classes one way.
public struct AveragedMetrics: Sendable, Equatable {
    public var precision: Double
    public var recall: Double
    public var f1: Double
}

/// scikit-learn's `precision_recall_fscore_support(labels=range(C))`, from
/// the confusion matrix. A ratio whose denominator is zero (a class never
/// predicted has no precision, an absent class no recall) is 0: that is
/// what `zero_division="warn"` (the default) and `zero_division=0` give.
enum PrecisionRecall {
    static func perClass(_ matrix: ConfusionMatrix) -> [ClassMetrics] {
        (0..<matrix.classCount).map { index in
            let (precision, recall, f1) = ratios(truePositives: matrix.truePositives(index),
                                                 predicted: matrix.predictedCount(index), support: matrix.support(index))
            return ClassMetrics(precision: precision, recall: recall, f1: f1, support: matrix.support(index), rocAUC: nil)
        }
    }

    /// The unweighted mean of the classes' values: every class in the
    /// head counts, including one absent from the test set (its zeros pull
    /// the mean down, as in scikit-learn with `labels=`).
    static func macro(_ classes: [ClassMetrics]) -> AveragedMetrics {
        AveragedMetrics(precision: NumPySum.mean(classes.map(\.precision)), recall: NumPySum.mean(classes.map(\.recall)),
                        f1: NumPySum.mean(classes.map(\.f1)))
    }

    /// The classes' values weighted by their support.
    static func weighted(_ classes: [ClassMetrics]) -> AveragedMetrics {
        let weights = classes.map { Double($0.support) }
        return AveragedMetrics(precision: NumPySum.weightedMean(classes.map(\.precision), weights: weights),
                               recall: NumPySum.weightedMean(classes.map(\.recall), weights: weights),
                               f1: NumPySum.weightedMean(classes.map(\.f1), weights: weights))
    }

    /// The ratios of the summed counts (over single-label data with every
    /// class listed, all three equal the accuracy).
    static func micro(_ matrix: ConfusionMatrix) -> AveragedMetrics {
        let classes = 0..<matrix.classCount
        let (precision, recall, f1) = ratios(truePositives: classes.reduce(0) { $0 + matrix.truePositives($1) },
                                             predicted: classes.reduce(0) { $0 + matrix.predictedCount($1) },
                                             support: classes.reduce(0) { $0 + matrix.support($1) })
        return AveragedMetrics(precision: precision, recall: recall, f1: f1)
    }

    /// F1 as scikit-learn computes it, 2·tp / (support + predicted), rather
    /// than from the rounded precision and recall.
    private static func ratios(truePositives: Int, predicted: Int, support: Int) -> (Double, Double, Double) {
        let tp = Double(truePositives)
        let precision = predicted == 0 ? 0 : tp / Double(predicted)
        let recall = support == 0 ? 0 : tp / Double(support)
        let f1 = support + predicted == 0 ? 0 : 2 * tp / Double(support + predicted)
        return (precision, recall, f1)
    }
}
