import QuernJSON

/// The evaluations as `--json` prints them and head.json stores them: one
/// object each, snake_case keys always present in a fixed order (null where
/// a value is undefined), per-class entries keyed by class name in class
/// order.
extension ClassificationEvaluation {
    /// Without the ROC curves (they are long); see `json(includingROCCurves:)`.
    public var json: JSONValue { json(includingROCCurves: false) }

    /// With `includingROCCurves`, `roc_curves` maps each class to its
    /// `fpr`, `tpr` and `thresholds` (null for a class without a curve);
    /// the first threshold, +infinity, is written null.
    public func json(includingROCCurves: Bool) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [
            ("task", .string("classification")),
            ("count", .int(count)),
            ("classes", .array(classes.map(JSONValue.string))),
            ("accuracy", .double(accuracy)),
            ("per_class", .object(zip(classes, perClass).map { name, metrics in
                (name, .object([
                    ("precision", .double(metrics.precision)), ("recall", .double(metrics.recall)),
                    ("f1", .double(metrics.f1)), ("support", .int(metrics.support)),
                    ("roc_auc", metrics.rocAUC.map(JSONValue.double) ?? .null),
                ]))
            })),
            ("macro_avg", Self.json(macro)),
            ("micro_avg", Self.json(micro)),
            ("weighted_avg", Self.json(weighted)),
            ("roc_auc", rocAUC.value.map(JSONValue.double) ?? .null),
            ("roc_auc_method", .string(rocAUC.method.rawValue)),
            ("roc_auc_excluded_classes", .array(rocAUC.excludedClasses.map(JSONValue.string))),
            ("roc_auc_note", .optional(rocAUC.note)),
            ("log_loss", .double(logLoss)),
            ("confusion_matrix", .array(confusionMatrix.counts.map { .array($0.map(JSONValue.int)) })),
        ]
        if includingROCCurves {
            members.append(("roc_curves", .object(zip(classes, rocCurves).map { name, curve in
                (name, curve.map { curve in
                    .object([
                        ("fpr", .array(curve.falsePositiveRates.map(JSONValue.double))),
                        ("tpr", .array(curve.truePositiveRates.map(JSONValue.double))),
                        ("thresholds", .array(curve.thresholds.map(JSONValue.double))),
                    ])
                } ?? .null)
            })))
        }
        return .object(members)
    }

    private static func json(_ average: AveragedMetrics) -> JSONValue {
        .object([("precision", .double(average.precision)), ("recall", .double(average.recall)), ("f1", .double(average.f1))])
    }
}

extension RegressionEvaluation {
    public var json: JSONValue {
        .object([
            ("task", .string("regression")),
            ("count", .int(count)),
            ("mae", .double(meanAbsoluteError)),
            ("rmse", .double(rootMeanSquaredError)),
            ("r2", r2.map(JSONValue.double) ?? .null),
            ("r2_note", .optional(r2Note)),
        ])
    }
}

extension CrossValidationSummary {
    public var json: JSONValue {
        .object([
            ("folds", .int(folds)),
            ("standard_deviation", .string("population (ddof=0)")),
            ("metrics", .object(statistics.map { statistic in
                (statistic.name, .object([
                    ("mean", statistic.mean.map(JSONValue.double) ?? .null),
                    ("std", statistic.standardDeviation.map(JSONValue.double) ?? .null),
                    ("defined_folds", .int(statistic.definedFolds)),
                    ("values", .array(statistic.values.map { $0.map(JSONValue.double) ?? .null })),
                ]))
            })),
        ])
    }
}
