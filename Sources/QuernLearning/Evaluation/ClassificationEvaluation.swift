import QuernTensor

/// What `quern evaluate` (and the end of `quern train`) reports about a
/// classification head on a labelled test set, every number equal to
/// scikit-learn 1.9.1's on the same labels and probabilities
/// (Tests/QuernLearningTests/Evaluation/MetricsGoldenTests.swift).
///
/// The predicted class is the most probable one, the first of equal
/// maxima on a tie (`np.argmax`).
public struct ClassificationEvaluation: Sendable {
    /// Class names in the head's output order.
    public let classes: [String]
    public let trueLabels: [Int]
    public let predictedLabels: [Int]
    public let accuracy: Double
    /// One entry per class, in class order.
    public let perClass: [ClassMetrics]
    public let macro: AveragedMetrics
    public let micro: AveragedMetrics
    public let weighted: AveragedMetrics
    public let rocAUC: ROCAUCSummary
    /// Each class's one-vs-rest curve (for the report's picture); nil for
    /// a class with no example in the test set, or nothing but it.
    public let rocCurves: [ROCCurve?]
    public let logLoss: Double
    public let confusionMatrix: ConfusionMatrix

    /// Examples evaluated.
    public var count: Int { trueLabels.count }

    /// - Parameters:
    ///   - classes: two or more distinct names, in output order.
    ///   - trueLabels: each example's class index.
    ///   - probabilities: each example's class probabilities [N][C], in
    ///     [0, 1] (a head's softmax output).
    public init(classes: [String], trueLabels: [Int], probabilities: [[Double]]) throws(LearningError) {
        try Self.validate(classes: classes, trueLabels: trueLabels, probabilities: probabilities)
        self.classes = classes
        self.trueLabels = trueLabels
        predictedLabels = probabilities.map { row in
            var best = 0
            for index in row.indices where row[index] > row[best] { best = index }
            return best
        }
        let matrix = ConfusionMatrix(classCount: classes.count, trueLabels: trueLabels, predictedLabels: predictedLabels)
        confusionMatrix = matrix
        accuracy = NumPySum.mean(zip(trueLabels, predictedLabels).map { $0 == $1 ? 1 : 0 })

        let curves = classes.indices.map { index in
            ROCCurve(positives: trueLabels.map { $0 == index }, scores: probabilities.map { $0[index] })
        }
        rocCurves = curves
        var perClass = PrecisionRecall.perClass(matrix)
        for index in perClass.indices { perClass[index].rocAUC = curves[index]?.area }
        self.perClass = perClass
        macro = PrecisionRecall.macro(perClass)
        micro = PrecisionRecall.micro(matrix)
        weighted = PrecisionRecall.weighted(perClass)
        rocAUC = ROCAUCSummary(classes: classes, perClassAreas: perClass.map(\.rocAUC), supports: perClass.map(\.support))
        logLoss = LogLoss.mean(trueLabels: trueLabels, probabilities: probabilities)
    }

    /// From a head's probabilities as the tensor core returns them, [N, C].
    public init(classes: [String], trueLabels: [Int], probabilities: Tensor) throws(LearningError) {
        guard probabilities.shape.count == 2, probabilities.shape[1] == classes.count else {
            throw LearningError(.shapeMismatch, "the probabilities have shape \(probabilities.shape), expected [examples, \(classes.count)]")
        }
        let width = classes.count
        let scalars = probabilities.scalars
        let rows = (0..<probabilities.shape[0]).map { row in scalars[(row * width)..<((row + 1) * width)].map(Double.init) }
        try self.init(classes: classes, trueLabels: trueLabels, probabilities: rows)
    }

    private static func validate(classes: [String], trueLabels: [Int], probabilities: [[Double]]) throws(LearningError) {
        guard classes.count >= 2 else {
            throw LearningError(.invalidParameter, "classification needs at least 2 classes, got \(classes.count)")
        }
        guard Set(classes).count == classes.count else {
            throw LearningError(.invalidParameter, "class names must be distinct")
        }
        guard !trueLabels.isEmpty else {
            throw LearningError(.invalidDataset, "there is no example to evaluate")
        }
        guard trueLabels.count == probabilities.count else {
            throw LearningError(.shapeMismatch, "\(trueLabels.count) labels but \(probabilities.count) rows of probabilities")
        }
        for (row, label) in trueLabels.enumerated() {
            guard classes.indices.contains(label) else {
                throw LearningError(.invalidDataset, "example \(row) has class index \(label); the head has \(classes.count) classes")
            }
            guard probabilities[row].count == classes.count else {
                throw LearningError(.shapeMismatch, "example \(row) has \(probabilities[row].count) probabilities for \(classes.count) classes")
            }
            guard probabilities[row].allSatisfy({ $0 >= 0 && $0 <= 1 }) else {
                throw LearningError(.invalidParameter, "example \(row) has a probability outside [0, 1] (or not a number): \(probabilities[row])")
            }
        }
    }
}
