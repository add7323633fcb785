/// Counts of (true class, predicted class) pairs: rows are true classes,
/// columns predicted ones, both in class order — scikit-learn's
/// `confusion_matrix(y_true, y_pred, labels=range(C))`.
public struct ConfusionMatrix: Sendable, Equatable {
    /// `counts[true][predicted]`.
    public let counts: [[Int]]

    public var classCount: Int { counts.count }

    /// `trueLabels` and `predictedLabels` are class indices below
    /// `classCount` (checked by the caller).
    public init(classCount: Int, trueLabels: [Int], predictedLabels: [Int]) {
        precondition(trueLabels.count == predictedLabels.count, "one prediction per example")
        var counts = Array(repeating: Array(repeating: 0, count: classCount), count: classCount)
        for (truth, prediction) in zip(trueLabels, predictedLabels) { counts[truth][prediction] += 1 }
        self.counts = counts
    }

    /// Examples of class `index` predicted as class `index`.
    public func truePositives(_ index: Int) -> Int { counts[index][index] }

    /// Examples whose true class is `index` (its row's sum).
    public func support(_ index: Int) -> Int { counts[index].reduce(0, +) }

    /// Examples predicted as class `index` (its column's sum).
    public func predictedCount(_ index: Int) -> Int { counts.reduce(0) { $0 + $1[index] } }

    /// The largest count in any cell (the heat map's and the table's scale).
    public var largestCount: Int { counts.lazy.flatMap { $0 }.max() ?? 0 }
}
