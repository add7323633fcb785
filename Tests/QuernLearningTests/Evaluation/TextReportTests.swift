import QuernLearning
import Testing

/// The terminal tables: classification_report's layout, the confusion
/// matrix headed by names or, for many classes, by numbers.
@Suite struct TextReportTests {
    static func evaluation(_ name: String) throws -> ClassificationEvaluation {
        let golden = try MetricsGoldens.classificationCase(name)
        return try ClassificationEvaluation(classes: golden.classes, trueLabels: golden.trueLabels, probabilities: golden.probabilities)
    }

    @Test func aSmallReportIsLaidOutLikeClassificationReport() throws {
        let expected = """
                          precision    recall  f1-score   support   roc-auc

                       a     0.7500    1.0000    0.8571         3    0.9333
                       b     0.0000    0.0000    0.0000         2    0.6667
                       c     0.7500    1.0000    0.8571         3    0.9333

                accuracy                         0.7500         8
               macro avg     0.5000    0.6667    0.5714         8
               micro avg     0.7500    0.7500    0.7500         8
            weighted avg     0.5625    0.7500    0.6429         8

            ROC-AUC (one-vs-rest, macro): 0.8444
            Log loss: 0.7662

            Confusion matrix (rows: true class, columns: predicted class)
               a  b  c
            a  3  0  0
            b  1  0  1
            c  0  0  3

            """
        #expect(try Self.evaluation("three_class_never_predicted").textReport() == expected)
    }

    @Test func twentyClassesStayAligned() throws {
        let report = try Self.evaluation("twenty_class_random").textReport()
        let lines = report.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        // Class rows: the names right-aligned, every number column at the same place.
        let header = try #require(lines.first)
        let classRows = lines[2..<22]
        #expect(classRows.allSatisfy { $0.count == header.count })
        #expect(classRows.contains { $0.hasPrefix("comp.sys.ibm.pc.hardware     0.5833") })
        // Matrix: numbered columns, each row "index  name  counts…", all the same width, within a wide terminal.
        let start = try #require(lines.firstIndex(of: "Confusion matrix (rows: true class, columns: predicted class)"))
        let matrix = lines[(start + 1)...].filter { !$0.isEmpty }
        #expect(matrix.count == 21)
        #expect(Set(matrix.map(\.count)).count == 1)
        #expect(try #require(matrix.first?.count) <= 100)
        #expect(matrix.first?.hasSuffix(" 17 18 19") == true)
        #expect(matrix[1].hasPrefix(" 0  alt.atheism "))
        #expect(matrix[20].hasPrefix("19  talk.religion.misc "))
    }

    @Test func longAndHostileNamesAreCutAndCleaned() throws {
        let long = String(repeating: "x", count: 40)
        let evaluation = try ClassificationEvaluation(classes: [long, "line\nbreak"], trueLabels: [0, 1],
                                                      probabilities: [[0.9, 0.1], [0.2, 0.8]])
        let report = evaluation.textReport(nameWidth: 12)
        #expect(report.contains("xxxxxxxxxxx… "))
        #expect(!report.contains(long))
        #expect(report.contains("line\u{FFFD}break"))
        #expect(!report.contains("line\nbreak"))
    }

    @Test func regressionAndUndefinedFiguresSayNA() throws {
        let single = try RegressionEvaluation(trueValues: [4.5], predictedValues: [4])
        #expect(single.textReport() == """
            examples  1
            MAE       0.5000
            RMSE      0.5000
            R²        n/a
              R² is undefined for fewer than two examples

            """)
        let oneClass = try Self.evaluation("binary_one_class_only").textReport()
        #expect(oneClass.contains("ROC-AUC (positive class \"yes\"): n/a\n  ROC-AUC is undefined: the test set holds examples of one class only (\"yes\")\n"))
        #expect(oneClass.contains("          no     0.0000    0.0000    0.0000         0       n/a\n"))
    }
}
