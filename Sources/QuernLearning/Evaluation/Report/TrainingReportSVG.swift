/// `report.svg`: the picture `quern train` writes beside a head and
/// `quern evaluate --report` writes for a test set — a title and summary,
/// loss and accuracy per epoch (when there is a training history), the
/// confusion matrix as a heat map and the ROC curves (classification) or
/// predictions against true values (regression). Plain SVG text written
/// here, no plotting dependency; the same inputs always give the same bytes.
public struct TrainingReportSVG: Sendable {
    public typealias Evaluation = HeadEvaluation

    /// The head's name or the report's subject.
    public var title: String
    /// Empty for `quern evaluate`, which has no training history.
    public var history: [EpochRecord]
    public var evaluation: Evaluation?

    public init(title: String, history: [EpochRecord] = [], evaluation: Evaluation?) {
        self.title = title
        self.history = history
        self.evaluation = evaluation
    }

    public static let width = 960.0

    public func render() -> String {
        var svg = SVGWriter()
        svg.text(title, x: 20, y: 34, size: 20, bold: true)
        var top = 52.0
        for line in summaryLines {
            svg.text(line, x: 20, y: top + 4, size: 13, fill: "#444444")
            top += 18
        }
        top += 16
        if !history.isEmpty {
            EpochChartsSVG.draw(history, into: &svg, top: top, width: Self.width)
            top += EpochChartsSVG.height + 16
        }
        switch evaluation {
        case let .classification(evaluation):
            top += ConfusionHeatMapSVG.draw(evaluation, into: &svg, top: top) + 24
            ROCChartSVG.draw(evaluation, into: &svg, top: top)
            top += ROCChartSVG.height
        case let .regression(evaluation):
            ScatterPlotSVG.draw(evaluation, into: &svg, top: top)
            top += ScatterPlotSVG.height
        case nil:
            break
        }
        return svg.document(width: Self.width, height: (top + 12).rounded(.up), title: title)
    }

    /// What a reader wants before the pictures: the test-set figures, then
    /// how training went.
    var summaryLines: [String] {
        var lines: [String] = []
        let figure = { (value: Double?) -> String in
            guard let value else { return "n/a" }
            return value.isFinite ? TextLayout.fixed(value, digits: 4) : "not finite"
        }
        switch evaluation {
        case let .classification(evaluation):
            lines.append("\(evaluation.count) test examples, \(evaluation.classes.count) classes · accuracy \(figure(evaluation.accuracy))"
                         + " · macro F1 \(figure(evaluation.macro.f1)) · ROC-AUC \(figure(evaluation.rocAUC.value))"
                         + " · log loss \(figure(evaluation.logLoss))")
            if let note = evaluation.rocAUC.note { lines.append(note) }
        case let .regression(evaluation):
            lines.append("\(evaluation.count) test examples · MAE \(figure(evaluation.meanAbsoluteError))"
                         + " · RMSE \(figure(evaluation.rootMeanSquaredError)) · R² \(figure(evaluation.r2))")
        case nil:
            break
        }
        if let last = history.last {
            var line = "\(history.count) epochs · final training loss \(figure(last.trainLoss))"
            let validated = history.compactMap { record in record.validationLoss.map { (record.epoch, $0) } }.filter { $0.1.isFinite }
            if let best = validated.min(by: { $0.1 < $1.1 }) {
                line += " · best validation loss \(figure(best.1)) at epoch \(best.0)"
            }
            lines.append(line)
        }
        return lines
    }
}
