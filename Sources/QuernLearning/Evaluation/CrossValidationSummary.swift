/// K folds' evaluations summarised: each single-number metric's mean and
/// standard deviation over the folds, as people print `cross_validate`'s
/// scores — `np.mean(scores)` ± `np.std(scores)`, the population standard
/// deviation (ddof = 0, NumPy's default), not the sample one (ddof = 1).
public struct CrossValidationSummary: Sendable {
    public struct Statistic: Sendable, Equatable {
        /// The metric's snake_case name (`accuracy`, `macro_f1`, `roc_auc`, …).
        public let name: String
        /// Each fold's value in fold order; nil where undefined on the fold.
        public let values: [Double?]
        /// Over the folds where the metric is defined; nil if it is on none.
        public let mean: Double?
        public let standardDeviation: Double?
        /// How many folds the mean and deviation cover.
        public var definedFolds: Int { values.lazy.compactMap { $0 }.count }
    }

    public let folds: Int
    /// In the evaluations' metric order.
    public let statistics: [Statistic]

    public init<Evaluation: ScalarMetricsReporting>(folds evaluations: [Evaluation]) throws(LearningError) {
        guard let first = evaluations.first else {
            throw LearningError(.invalidParameter, "cross-validation needs at least one fold's evaluation")
        }
        let names = first.scalarMetrics.map(\.name)
        let table = evaluations.map(\.scalarMetrics)
        precondition(table.allSatisfy { $0.map(\.name) == names }, "every fold reports the same metrics")
        folds = evaluations.count
        statistics = names.indices.map { column in
            let values = table.map { $0[column].value }
            let defined = values.compactMap { $0 }
            return Statistic(name: names[column], values: values,
                             mean: defined.isEmpty ? nil : NumPySum.mean(defined),
                             standardDeviation: defined.isEmpty ? nil : NumPySum.populationStandardDeviation(defined))
        }
    }

    /// The statistic called `name`, if the evaluations report it.
    public subscript(name: String) -> Statistic? { statistics.first { $0.name == name } }
}
