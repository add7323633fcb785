import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import QuernLearning
import Testing

/// report.svg: well-formed XML (read back by Foundation's XMLParser), the
/// expected pieces, class names escaped, identical bytes for identical
/// inputs, and room for twenty classes.
@Suite struct TrainingReportSVGTests {
    /// What XMLParser saw: every element name, every text run, the root's
    /// attributes; nil when the document is not well-formed.
    final class Reader: NSObject, XMLParserDelegate {
        var elements: [String] = []
        var texts: [String] = []
        var rootAttributes: [String: String] = [:]
        private var current = ""

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            if elements.isEmpty { rootAttributes = attributes }
            elements.append(name)
            current = ""
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) { current += string }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            if name == "text" || name == "title" { texts.append(current) }
            current = ""
        }

        static func read(_ svg: String) -> Reader? {
            let reader = Reader()
            let parser = XMLParser(data: Data(svg.utf8))
            parser.delegate = reader
            return parser.parse() ? reader : nil
        }
    }

    static func history(epochs: Int) -> [EpochRecord] {
        (1...epochs).map { epoch in
            let decay = 1 / Double(epoch)
            return EpochRecord(epoch: epoch, trainLoss: 0.3 + decay, validationLoss: 0.4 + decay + (epoch > 30 ? 0.01 * Double(epoch - 30) : 0),
                               trainAccuracy: 0.9 - 0.4 * decay, validationAccuracy: 0.85 - 0.4 * decay, learningRate: 0.001)
        }
    }

    static func evaluation(_ name: String) throws -> ClassificationEvaluation {
        let golden = try MetricsGoldens.classificationCase(name)
        return try ClassificationEvaluation(classes: golden.classes, trueLabels: golden.trueLabels, probabilities: golden.probabilities)
    }

    @Test func aTrainingReportIsWellFormedAndHasEveryPart() throws {
        let report = TrainingReportSVG(title: "topics-20ng", history: Self.history(epochs: 50),
                                       evaluation: .classification(try Self.evaluation("twenty_class_random")))
        let svg = report.render()
        let reader = try #require(Reader.read(svg), "report.svg is not well-formed XML")
        #expect(reader.elements.first == "svg")
        #expect(reader.rootAttributes["xmlns"] == "http://www.w3.org/2000/svg")
        #expect(reader.rootAttributes["width"] == "960")
        for piece in ["topics-20ng", "Loss per epoch", "Accuracy per epoch", "Confusion matrix", "predicted class", "true class",
                      "false positive rate", "best validation (epoch 30)", "training accuracy", "validation loss"] {
            #expect(reader.texts.contains(piece), "missing \(piece)")
        }
        #expect(reader.texts.contains { $0.hasPrefix("ROC curves — ROC-AUC 0.9") })
        #expect(reader.texts.contains { $0.hasPrefix("comp.os.ms-windows.misc (AUC 0.") })
        #expect(reader.texts.contains { $0.hasPrefix("200 test examples, 20 classes · accuracy ") })
        #expect(reader.texts.contains("50 epochs · final training loss 0.3200 · best validation loss 0.4333 at epoch 30"))
        // 20 × 20 cells, each a rect with its tooltip, plus the grid's class names on both axes.
        #expect(reader.elements.filter { $0 == "rect" }.count >= 400)
        #expect(reader.texts.contains { $0.hasPrefix("true alt.atheism, predicted comp.graphics: ") })
        #expect(reader.texts.filter { $0 == "talk.religion.misc" }.count == 2)
        #expect(!svg.contains("nan") && !svg.contains("inf"))
        #expect(svg == report.render(), "the same inputs must give the same bytes")
    }

    @Test func classNamesAreEscapedAndControlCharactersReplaced() throws {
        let classes = ["<script>&\"'", "tab\there", "bell\u{7}", "\u{FFFE}odd", "ünïcødé 日本"]
        let evaluation = try ClassificationEvaluation(
            classes: classes, trueLabels: [0, 1, 2, 3, 4, 0],
            probabilities: (0..<6).map { row in (0..<5).map { $0 == row % 5 ? 0.6 : 0.1 } })
        let svg = TrainingReportSVG(title: "a < b & c", evaluation: .classification(evaluation)).render()
        #expect(svg.contains("&lt;script&gt;&amp;&quot;&apos;"))
        let reader = try #require(Reader.read(svg), "escaping left the document malformed")
        #expect(reader.texts.contains("a < b & c"))
        #expect(reader.texts.contains("<script>&\"'"))
        #expect(reader.texts.contains("tab\u{FFFD}here"))
        #expect(reader.texts.contains("bell\u{FFFD}"))
        #expect(reader.texts.contains("\u{FFFD}odd"))
        #expect(reader.texts.contains("ünïcødé 日本"))
        #expect(!svg.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" })
    }

    @Test func anEvaluationWithoutHistoryHasNoEpochCharts() throws {
        let svg = TrainingReportSVG(title: "test set", evaluation: .classification(try Self.evaluation("binary_hand_ties"))).render()
        let reader = try #require(Reader.read(svg))
        #expect(!reader.texts.contains("Loss per epoch"))
        #expect(reader.texts.contains("Confusion matrix"))
        // Two classes: only the positive class's curve, named in the legend.
        #expect(reader.texts.contains("positive (AUC 0.8000)"))
        #expect(!reader.texts.contains { $0.hasPrefix("negative (AUC") })
        #expect(reader.elements.filter { $0 == "polyline" }.count == 1)
    }

    @Test func anUndefinedCurveIsSaidNotDrawn() throws {
        let svg = TrainingReportSVG(title: "absent", evaluation: .classification(try Self.evaluation("four_class_absent"))).render()
        let reader = try #require(Reader.read(svg))
        #expect(reader.texts.contains("c — no curve (no examples)"))
        #expect(reader.elements.filter { $0 == "polyline" }.count == 3)
    }

    @Test func aRegressionReportScattersPredictionsAndSurvivesADivergedEpoch() throws {
        let truth = (0..<40).map { Double($0) / 4 }
        let evaluation = try RegressionEvaluation(trueValues: truth, predictedValues: truth.map { $0 * 0.9 + 0.3 })
        var history = (1...5).map { EpochRecord(epoch: $0, trainLoss: 2 / Double($0), validationLoss: 2.5 / Double($0), learningRate: 0.01 / Double($0)) }
        history.append(EpochRecord(epoch: 6, trainLoss: .infinity, validationLoss: .nan, learningRate: 0.001))
        let svg = TrainingReportSVG(title: "rating", history: history, evaluation: .regression(evaluation)).render()
        let reader = try #require(Reader.read(svg))
        for piece in ["Predicted against true values", "true value", "predicted value", "Learning rate per epoch", "Loss per epoch"] {
            #expect(reader.texts.contains(piece), "missing \(piece)")
        }
        #expect(reader.texts.contains { $0.hasPrefix("40 test examples · MAE ") })
        #expect(!reader.texts.contains("Accuracy per epoch"))
        // 40 dots, plus the loss chart's 2 × 5 finite points and the learning rate's 6.
        #expect(reader.elements.filter { $0 == "circle" }.count == 40 + 10 + 6)
        #expect(!svg.contains("nan") && !svg.contains("inf"))
    }
}

extension TrainingReportSVGTests {
    @Test func extremeValuesAndOneEpochStillDraw() throws {
        let evaluation = try RegressionEvaluation(trueValues: [-1e308, 1e308, 0], predictedValues: [1e308, -1e308, 5])
        let svg = TrainingReportSVG(title: "extreme", history: [EpochRecord(epoch: 1, trainLoss: 0.5, learningRate: 0.1)],
                                    evaluation: .regression(evaluation)).render()
        #expect(Reader.read(svg) != nil)
        #expect(!svg.contains("nan") && !svg.contains("inf"))
        let constant = try RegressionEvaluation(trueValues: [2, 2, 2], predictedValues: [2, 2, 2])
        let flat = TrainingReportSVG(title: "constant", evaluation: .regression(constant)).render()
        let reader = try #require(Reader.read(flat))
        #expect(reader.texts.contains { $0.hasPrefix("3 test examples · MAE 0.0000 · RMSE 0.0000 · R² 1.0000") })
        #expect(!flat.contains("nan") && !flat.contains("inf"))
    }
}
