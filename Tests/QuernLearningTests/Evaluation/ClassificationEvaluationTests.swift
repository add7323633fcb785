import QuernJSON
import QuernLearning
import QuernTensor
import QuernTestSupport
import Testing

/// The behaviours the goldens do not spell out: refused inputs, the
/// argmax rule, what an undefined ROC-AUC says, the JSON's shape.
@Suite struct ClassificationEvaluationTests {
    @Test func refusesInputsThatCannotBeEvaluated() {
        func code(_ classes: [String], _ labels: [Int], _ probabilities: [[Double]]) -> String? {
            thrownError(LearningError.self) {
                _ = try ClassificationEvaluation(classes: classes, trueLabels: labels, probabilities: probabilities)
            }?.code
        }
        #expect(code(["only"], [0], [[1]]) == "learning.invalid_parameter")
        #expect(code(["a", "a"], [0], [[0.5, 0.5]]) == "learning.invalid_parameter")
        #expect(code(["a", "b"], [], []) == "learning.invalid_dataset")
        #expect(code(["a", "b"], [0, 1], [[0.5, 0.5]]) == "learning.shape_mismatch")
        #expect(code(["a", "b"], [0], [[0.2, 0.3, 0.5]]) == "learning.shape_mismatch")
        #expect(code(["a", "b"], [2], [[0.5, 0.5]]) == "learning.invalid_dataset")
        #expect(code(["a", "b"], [-1], [[0.5, 0.5]]) == "learning.invalid_dataset")
        #expect(code(["a", "b"], [0], [[1.5, -0.5]]) == "learning.invalid_parameter")
        #expect(code(["a", "b"], [0], [[.nan, 0.5]]) == "learning.invalid_parameter")
    }

    @Test func aTieGoesToTheFirstClassAsNumPysArgmax() throws {
        let evaluation = try ClassificationEvaluation(classes: ["a", "b", "c"], trueLabels: [2, 1],
                                                      probabilities: [[0.1, 0.45, 0.45], [0.4, 0.4, 0.2]])
        #expect(evaluation.predictedLabels == [1, 0])
        #expect(evaluation.accuracy == 0)
    }

    @Test func takesTheHeadsProbabilityTensor() throws {
        let probabilities = Tensor(vector: [0.9, 0.1, 0.3, 0.7, 0.6, 0.4]).reshaped([3, 2])
        let evaluation = try ClassificationEvaluation(classes: ["no", "yes"], trueLabels: [0, 1, 1], probabilities: probabilities)
        #expect(evaluation.predictedLabels == [0, 1, 0])
        #expect(evaluation.rocAUC.method == .binary)
        #expect(evaluation.rocAUC.value == 1)
        let wrong = thrownError(LearningError.self) {
            _ = try ClassificationEvaluation(classes: ["a", "b", "c"], trueLabels: [0, 1, 1], probabilities: probabilities)
        }
        #expect(wrong?.code == "learning.shape_mismatch")
    }

    @Test func anUndefinedROCAUCSaysWhy() throws {
        let evaluation = try ClassificationEvaluation(classes: ["x", "y", "z"], trueLabels: [2, 2],
                                                      probabilities: [[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]])
        #expect(evaluation.rocAUC.value == nil)
        #expect(evaluation.rocAUC.note?.contains("one class only (\"z\")") == true)
        #expect(evaluation.rocCurves.allSatisfy { $0 == nil })
        #expect(evaluation.json["roc_auc"] == .null)
    }

    @Test func anAbsentClassIsExcludedAndNamed() throws {
        let golden = try MetricsGoldens.classificationCase("four_class_absent")
        let evaluation = try ClassificationEvaluation(classes: golden.classes, trueLabels: golden.trueLabels,
                                                      probabilities: golden.probabilities)
        #expect(evaluation.rocAUC.excludedClasses == ["c"])
        #expect(evaluation.rocAUC.note?.contains("3 classes in the test set") == true)
        #expect(evaluation.perClass[2].support == 0 && evaluation.perClass[2].recall == 0 && evaluation.perClass[2].rocAUC == nil)
        #expect(evaluation.perClass[3].precision == 0)  // never predicted
    }

    @Test func theJSONHasStableKeysAndClassOrder() throws {
        let golden = try MetricsGoldens.classificationCase("three_class_never_predicted")
        let evaluation = try ClassificationEvaluation(classes: golden.classes, trueLabels: golden.trueLabels,
                                                      probabilities: golden.probabilities)
        let json = evaluation.json
        #expect(json.objectValue?.map(\.key) == [
            "task", "count", "classes", "accuracy", "per_class", "macro_avg", "micro_avg", "weighted_avg",
            "roc_auc", "roc_auc_method", "roc_auc_excluded_classes", "roc_auc_note", "log_loss", "confusion_matrix",
        ])
        #expect(json["per_class"]?.objectValue?.map(\.key) == ["a", "b", "c"])
        #expect(json["per_class"]?["b"]?.objectValue?.map(\.key) == ["precision", "recall", "f1", "support", "roc_auc"])
        #expect(json["confusion_matrix"] == .array(evaluation.confusionMatrix.counts.map { .array($0.map(JSONValue.int)) }))
        #expect(json["count"] == .number("8"))
        #expect(json["roc_auc_method"] == .string("ovr_macro"))
        // Shortest round-trip text: the JSON reads back as the same double.
        #expect(json["accuracy"]?.doubleValue == evaluation.accuracy)

        let withCurves = evaluation.json(includingROCCurves: true)
        #expect(withCurves["roc_curves"]?.objectValue?.map(\.key) == ["a", "b", "c"])
        #expect(withCurves["roc_curves"]?["a"]?["thresholds"]?.arrayValue?.first == .null)  // +infinity
        let parsed = try JSONParser.parse(Array(JSONWriter.string(withCurves, style: .pretty).utf8))
        #expect(parsed == withCurves)
    }

    @Test func regressionRefusesBadInputAndReportsJSON() throws {
        let mismatch = thrownError(LearningError.self) { _ = try RegressionEvaluation(trueValues: [1, 2], predictedValues: [1]) }
        #expect(mismatch?.code == "learning.shape_mismatch")
        let infinite = thrownError(LearningError.self) { _ = try RegressionEvaluation(trueValues: [1, 2], predictedValues: [1, .infinity]) }
        #expect(infinite?.code == "learning.invalid_parameter")
        let empty = thrownError(LearningError.self) { _ = try RegressionEvaluation(trueValues: [], predictedValues: []) }
        #expect(empty?.code == "learning.invalid_dataset")

        let evaluation = try RegressionEvaluation(trueValues: [3, -0.5, 2, 7], predictedValues: [2.5, 0, 2, 8])
        #expect(evaluation.json.objectValue?.map(\.key) == ["task", "count", "mae", "rmse", "r2", "r2_note"])
        #expect(evaluation.json["mae"] == .number("0.5"))
        let constant = try RegressionEvaluation(trueValues: [0.1, 0.1, 0.1], predictedValues: [0.1, 0.1, 0.1])
        #expect(constant.r2 == 1)
        #expect(constant.r2Note != nil)
    }

    @Test func crossValidationSkipsUndefinedFoldsAndSaysSo() throws {
        let defined = try ClassificationEvaluation(classes: ["a", "b"], trueLabels: [0, 1], probabilities: [[0.8, 0.2], [0.3, 0.7]])
        let oneClass = try ClassificationEvaluation(classes: ["a", "b"], trueLabels: [1, 1], probabilities: [[0.8, 0.2], [0.3, 0.7]])
        let summary = try CrossValidationSummary(folds: [defined, oneClass])
        let auc = try #require(summary["roc_auc"])
        #expect(auc.values == [1, nil])
        #expect(auc.definedFolds == 1 && auc.mean == 1 && auc.standardDeviation == 0)
        let accuracy = try #require(summary["accuracy"])
        #expect(accuracy.mean == 0.75 && accuracy.standardDeviation == 0.25)  // ddof = 0
        #expect(summary.textReport().contains("roc_auc             1.0000 ± 0.0000  (defined on 1 of 2 folds)"))
        #expect(summary.json["standard_deviation"] == .string("population (ddof=0)"))
        #expect(summary.json["metrics"]?["roc_auc"]?["values"] == .array([.number("1"), .null]))

        let regression = try CrossValidationSummary(folds: [try RegressionEvaluation(trueValues: [1, 2], predictedValues: [1, 3])])
        #expect(regression.statistics.map(\.name) == ["mae", "rmse", "r2"])
        let none = thrownError(LearningError.self) { _ = try CrossValidationSummary(folds: [RegressionEvaluation]()) }
        #expect(none?.code == "learning.invalid_parameter")
    }
}
