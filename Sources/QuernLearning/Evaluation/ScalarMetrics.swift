/// An evaluation's single-number metrics by stable snake_case name, in a
/// fixed order: what cross-validation averages over folds.
public protocol ScalarMetricsReporting: Sendable {
    /// nil where a metric is undefined on this evaluation (an ROC-AUC on a
    /// test set of one class, an R² on one example).
    var scalarMetrics: [(name: String, value: Double?)] { get }
}

extension ClassificationEvaluation: ScalarMetricsReporting {
    public var scalarMetrics: [(name: String, value: Double?)] {
        [("accuracy", accuracy),
         ("macro_precision", macro.precision), ("macro_recall", macro.recall), ("macro_f1", macro.f1),
         ("micro_precision", micro.precision), ("micro_recall", micro.recall), ("micro_f1", micro.f1),
         ("weighted_precision", weighted.precision), ("weighted_recall", weighted.recall), ("weighted_f1", weighted.f1),
         ("roc_auc", rocAUC.value), ("log_loss", logLoss)]
    }
}

extension RegressionEvaluation: ScalarMetricsReporting {
    public var scalarMetrics: [(name: String, value: Double?)] {
        [("mae", meanAbsoluteError), ("rmse", rootMeanSquaredError), ("r2", r2)]
    }
}
