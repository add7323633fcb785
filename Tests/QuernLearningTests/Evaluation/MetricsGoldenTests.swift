import QuernJSON
import QuernLearning
import Testing

/// Every metric against scikit-learn 1.9.1 on the golden cases: 1e-12 for
/// counts and ratios, 1e-9 for ROC-AUC and log loss (the sums are added in
/// NumPy's order, so most agree to the last bit anyway).
@Suite struct MetricsGoldenTests {
    static let ratioTolerance = 1e-12
    static let areaTolerance = 1e-9

    static func close(_ actual: Double?, _ expected: Double?, _ tolerance: Double) -> Bool {
        switch (actual, expected) {
        case (nil, nil): return true
        case let (actual?, expected?): return abs(actual - expected) <= tolerance
        default: return false
        }
    }

    static func expectClose(_ actual: [Double?], _ expected: [Double?], _ tolerance: Double, _ what: String, _ name: String) {
        #expect(actual.count == expected.count, "\(name): \(what) count")
        for (index, (a, e)) in zip(actual, expected).enumerated() {
            #expect(close(a, e, tolerance), "\(name): \(what)[\(index)] = \(String(describing: a)), scikit-learn \(String(describing: e))")
        }
    }

    @Test func theGoldensCoverTheEdgeCases() throws {
        let names = Set(try MetricsGoldens.classificationCases().map(\.name))
        for required in ["binary_hand_ties", "three_class_never_predicted", "five_class_ties", "four_class_absent",
                         "binary_one_class_only", "three_class_one_class_only", "twenty_class_random"] {
            #expect(names.contains(required), "missing golden case \(required)")
        }
        #expect(try MetricsGoldens.document()["sklearn"]?.stringValue == "1.9.1")
    }

    @Test(arguments: try MetricsGoldens.classificationCases().map(\.name))
    func classificationEqualsScikitLearn(_ name: String) throws {
        let golden = try MetricsGoldens.classificationCase(name)
        let expected = golden.expected
        let evaluation = try ClassificationEvaluation(classes: golden.classes, trueLabels: golden.trueLabels,
                                                      probabilities: golden.probabilities)
        #expect(evaluation.predictedLabels == (try MetricsGoldens.ints(expected["predicted"])), "\(name): argmax")
        #expect(evaluation.confusionMatrix.counts == (try #require(expected["confusion_matrix"]?.arrayValue).map(MetricsGoldens.ints)))
        #expect(evaluation.perClass.map(\.support) == (try MetricsGoldens.ints(expected["support"])), "\(name): support")
        #expect(Self.close(evaluation.accuracy, expected["accuracy"]?.doubleValue, Self.ratioTolerance), "\(name): accuracy")

        Self.expectClose(evaluation.perClass.map(\.precision), try MetricsGoldens.optionalDoubles(expected["precision"]),
                         Self.ratioTolerance, "precision", name)
        Self.expectClose(evaluation.perClass.map(\.recall), try MetricsGoldens.optionalDoubles(expected["recall"]),
                         Self.ratioTolerance, "recall", name)
        Self.expectClose(evaluation.perClass.map(\.f1), try MetricsGoldens.optionalDoubles(expected["f1"]),
                         Self.ratioTolerance, "f1", name)
        for (label, average) in [("macro", evaluation.macro), ("micro", evaluation.micro), ("weighted", evaluation.weighted)] {
            let reference = try #require(expected["averages"]?[label])
            Self.expectClose([average.precision, average.recall, average.f1],
                             [reference["precision"]?.doubleValue, reference["recall"]?.doubleValue, reference["f1"]?.doubleValue],
                             Self.ratioTolerance, "\(label) average", name)
        }

        let expectedAUC = try #require(expected["roc_auc"])
        #expect(Self.close(evaluation.rocAUC.value, expectedAUC.doubleValue, Self.areaTolerance),
                "\(name): ROC-AUC \(String(describing: evaluation.rocAUC.value)), expected \(expectedAUC)")
        if evaluation.rocAUC.value == nil { #expect(evaluation.rocAUC.note != nil, "\(name): an undefined ROC-AUC says why") }
        #expect(evaluation.rocAUC.excludedClasses == (try #require(expected["roc_auc_excluded"]?.arrayValue).map { $0.stringValue ?? "" }))
        Self.expectClose(evaluation.perClass.map(\.rocAUC), try MetricsGoldens.optionalDoubles(expected["roc_auc_per_class"]),
                         Self.areaTolerance, "per-class ROC-AUC", name)
        #expect(Self.close(evaluation.logLoss, expected["log_loss"]?.doubleValue, Self.areaTolerance),
                "\(name): log loss \(evaluation.logLoss), expected \(String(describing: expected["log_loss"]))")

        let curves = try #require(expected["roc_curves"]?.arrayValue)
        #expect(curves.count == evaluation.rocCurves.count)
        for (index, (curve, reference)) in zip(evaluation.rocCurves, curves).enumerated() {
            guard let curve else {
                #expect(reference.isNull, "\(name): class \(index) should have a ROC curve")
                continue
            }
            #expect(curve.thresholds.first == .infinity)
            Self.expectClose(curve.falsePositiveRates, try MetricsGoldens.optionalDoubles(reference["fpr"]), Self.ratioTolerance,
                             "class \(index) fpr", name)
            Self.expectClose(curve.truePositiveRates, try MetricsGoldens.optionalDoubles(reference["tpr"]), Self.ratioTolerance,
                             "class \(index) tpr", name)
            Self.expectClose(Array(curve.thresholds.dropFirst()), try MetricsGoldens.optionalDoubles(reference["thresholds"]), 0,
                             "class \(index) thresholds", name)
        }
    }

    @Test(arguments: try MetricsGoldens.regressionCases().map(\.name))
    func regressionEqualsScikitLearn(_ name: String) throws {
        let golden = try #require(try MetricsGoldens.regressionCases().first { $0.name == name })
        let evaluation = try RegressionEvaluation(trueValues: golden.trueValues, predictedValues: golden.predictedValues)
        let expected = golden.expected
        #expect(evaluation.count == expected["count"]?.intValue)
        #expect(Self.close(evaluation.meanAbsoluteError, expected["mae"]?.doubleValue, Self.ratioTolerance), "\(name): MAE")
        #expect(Self.close(evaluation.rootMeanSquaredError, expected["rmse"]?.doubleValue, Self.ratioTolerance), "\(name): RMSE")
        let r2 = try #require(expected["r2"])
        #expect(Self.close(evaluation.r2, r2.doubleValue, Self.ratioTolerance), "\(name): R² \(String(describing: evaluation.r2)), expected \(r2)")
        #expect((evaluation.r2 == nil) == r2.isNull)
    }

    @Test func crossValidationIsMeanAndPopulationStd() throws {
        let document = try MetricsGoldens.document()
        let reference = try #require(document["cross_validation"])
        let source = try MetricsGoldens.classificationCase(try #require(reference["source"]?.stringValue))
        let folds = try #require(reference["folds"]?.intValue)
        let evaluations = try (0..<folds).map { fold in
            let members = source.trueLabels.indices.filter { $0 % folds == fold }
            return try ClassificationEvaluation(classes: source.classes, trueLabels: members.map { source.trueLabels[$0] },
                                                probabilities: members.map { source.probabilities[$0] })
        }
        let summary = try CrossValidationSummary(folds: evaluations)
        #expect(summary.folds == folds)
        for (name, tolerance) in [("accuracy", Self.ratioTolerance), ("macro_f1", Self.ratioTolerance),
                                  ("weighted_f1", Self.ratioTolerance), ("roc_auc", Self.areaTolerance), ("log_loss", Self.areaTolerance)] {
            let expected = try #require(reference["summary"]?[name])
            let statistic = try #require(summary[name])
            #expect(statistic.definedFolds == folds)
            Self.expectClose(statistic.values, try MetricsGoldens.optionalDoubles(expected["values"]), tolerance, "\(name) per fold", "cv")
            #expect(Self.close(statistic.mean, expected["mean"]?.doubleValue, tolerance), "cv: \(name) mean")
            #expect(Self.close(statistic.standardDeviation, expected["std"]?.doubleValue, tolerance), "cv: \(name) std")
        }
    }
}
