/// One class's ROC curve against the rest, the points scikit-learn's
/// `roc_curve(y, scores)` returns with its default `drop_intermediate=True`:
/// one point per distinct score (tied scores move both rates at once),
/// points in the middle of a straight segment dropped, and (0, 0) first at
/// a threshold of +infinity. The area under it is `roc_auc_score`'s.
public struct ROCCurve: Sendable, Equatable {
    /// Non-decreasing, from 0 to 1.
    public let falsePositiveRates: [Double]
    public let truePositiveRates: [Double]
    /// Decreasing: the score at or above which an example counts as
    /// positive at each point. The first is +infinity (nothing is).
    public let thresholds: [Double]

    /// nil when `positives` has no positive or no negative example: one of
    /// the two rates would divide by zero (scikit-learn returns NaN then).
    public init?(positives: [Bool], scores: [Double]) {
        precondition(positives.count == scores.count, "one score per example")
        // Highest score first; the order within a tie does not matter,
        // only the counts at the end of each run of equal scores are kept.
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        var truePositives: [Int] = []
        var falsePositives: [Int] = []
        var thresholds: [Double] = []
        var positivesSoFar = 0
        for (rank, index) in order.enumerated() {
            if positives[index] { positivesSoFar += 1 }
            let lastOfRun = rank == order.count - 1 || scores[order[rank + 1]] != scores[index]
            if lastOfRun {
                truePositives.append(positivesSoFar)
                falsePositives.append(rank + 1 - positivesSoFar)
                thresholds.append(scores[index])
            }
        }
        guard let positiveCount = truePositives.last, let negativeCount = falsePositives.last,
              positiveCount > 0, negativeCount > 0 else { return nil }

        // A point is kept where the curve turns: a non-zero second
        // difference of either count.
        var kept = truePositives.indices.map { _ in true }
        if truePositives.count > 2 {
            for middle in 1..<(truePositives.count - 1) {
                let bendFP = falsePositives[middle + 1] - 2 * falsePositives[middle] + falsePositives[middle - 1]
                let bendTP = truePositives[middle + 1] - 2 * truePositives[middle] + truePositives[middle - 1]
                kept[middle] = bendFP != 0 || bendTP != 0
            }
        }
        var fpr: [Double] = [0], tpr: [Double] = [0], cuts: [Double] = [.infinity]
        for point in truePositives.indices where kept[point] {
            fpr.append(Double(falsePositives[point]) / Double(negativeCount))
            tpr.append(Double(truePositives[point]) / Double(positiveCount))
            cuts.append(thresholds[point])
        }
        falsePositiveRates = fpr
        truePositiveRates = tpr
        self.thresholds = cuts
    }

    /// The area under the curve by the trapezoidal rule (`sklearn.metrics.auc`).
    public var area: Double {
        let trapezoids = (1..<falsePositiveRates.count).map { (point: Int) -> Double in
            let width: Double = falsePositiveRates[point] - falsePositiveRates[point - 1]
            let heights: Double = truePositiveRates[point] + truePositiveRates[point - 1]
            return width * heights / 2
        }
        return NumPySum.sum(trapezoids)
    }
}
