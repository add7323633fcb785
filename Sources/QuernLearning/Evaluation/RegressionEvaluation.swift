/// What `quern evaluate` reports about a regression head: mean absolute
/// error, root mean squared error and R², equal to scikit-learn's
/// `mean_absolute_error`, `root_mean_squared_error` and `r2_score`.
public struct RegressionEvaluation: Sendable {
    public let trueValues: [Double]
    public let predictedValues: [Double]
    public let meanAbsoluteError: Double
    public let rootMeanSquaredError: Double
    /// 1 − Σ(y − ŷ)² / Σ(y − ȳ)². A constant target has no variance to
    /// explain: scikit-learn's convention (`force_finite=True`) gives 1 when
    /// it is predicted exactly and 0 otherwise. nil below two examples,
    /// where scikit-learn returns NaN.
    public let r2: Double?
    /// Why `r2` is nil or follows the constant-target convention.
    public let r2Note: String?

    public var count: Int { trueValues.count }

    public init(trueValues: [Double], predictedValues: [Double]) throws(LearningError) {
        guard !trueValues.isEmpty else { throw LearningError(.invalidDataset, "there is no example to evaluate") }
        guard trueValues.count == predictedValues.count else {
            throw LearningError(.shapeMismatch, "\(trueValues.count) true values but \(predictedValues.count) predictions")
        }
        if let index = trueValues.firstIndex(where: { !$0.isFinite }) {
            throw LearningError(.invalidDataset, "example \(index) has a true value that is not a finite number")
        }
        if let index = predictedValues.firstIndex(where: { !$0.isFinite }) {
            throw LearningError(.invalidParameter, "example \(index) has a prediction that is not a finite number")
        }
        self.trueValues = trueValues
        self.predictedValues = predictedValues
        let errors = zip(trueValues, predictedValues).map { $0 - $1 }
        meanAbsoluteError = NumPySum.mean(errors.map(abs))
        let squaredErrors = errors.map { $0 * $0 }
        rootMeanSquaredError = NumPySum.mean(squaredErrors).squareRoot()

        guard trueValues.count >= 2 else {
            r2 = nil
            r2Note = "R² is undefined for fewer than two examples"
            return
        }
        let residual = NumPySum.sum(squaredErrors)
        // Constant means every value equal, tested directly: the mean of
        // equal values can miss them by a rounding error and leave a tiny
        // denominator where the convention is meant.
        if trueValues.allSatisfy({ $0 == trueValues[0] }) {
            r2 = residual == 0 ? 1 : 0
            r2Note = "the true values are constant: R² is 1 for an exact prediction, 0 otherwise (scikit-learn's convention)"
            return
        }
        let mean = NumPySum.mean(trueValues)
        let total = NumPySum.sum(trueValues.map { ($0 - mean) * ($0 - mean) })
        r2 = 1 - residual / total
        r2Note = nil
    }
}
