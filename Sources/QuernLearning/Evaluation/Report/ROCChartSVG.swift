/// ROC curves: one per class against the rest (for two classes only the
/// positive class's, the other is its mirror image), the chance diagonal,
/// and a legend beside the plot with each class's area under its curve.
enum ROCChartSVG {
    static let height = 500.0

    static func draw(_ evaluation: ClassificationEvaluation, into svg: inout SVGWriter, top: Double) {
        let frame = ChartFrame(left: 82, top: top + 30, width: 420, height: 420)
        let x = ChartScale(fixed: 0, 1, step: 0.2, from: frame.left, to: frame.right)
        let y = ChartScale(fixed: 0, 1, step: 0.2, from: frame.bottom, to: frame.top)
        let summary = evaluation.rocAUC.value.map { " — ROC-AUC " + TextLayout.fixed($0, digits: 4) } ?? ""
        frame.draw(into: &svg, title: "ROC curves" + summary, x: x, y: y, xName: "false positive rate", yName: "true positive rate")
        svg.line(x1: x.position(0), y1: y.position(0), x2: x.position(1), y2: y.position(1), stroke: "#999999", dash: "5 4")

        let shown = evaluation.classes.count == 2 ? [1] : Array(evaluation.classes.indices)
        let legendLeft = frame.right + 24
        for (rank, index) in shown.enumerated() {
            let name = TextLayout.truncated(TextLayout.displayName(evaluation.classes[index]), to: 24)
            let lineY = frame.top + 8 + Double(rank) * 16
            guard let curve = evaluation.rocCurves[index], let area = evaluation.perClass[index].rocAUC else {
                svg.text(name + " — no curve (no examples" + (evaluation.perClass[index].support > 0 ? " of the other classes)" : ")"),
                         x: legendLeft + 28, y: lineY, size: 11, fill: "#888888")
                continue
            }
            let colour = ChartPalette.colour(index), dash = ChartPalette.dash(index)
            let points = zip(curve.falsePositiveRates, curve.truePositiveRates).map { (x: x.position($0), y: y.position($1)) }
            svg.polyline(points, stroke: colour, width: 1.8, dash: dash)
            svg.line(x1: legendLeft, y1: lineY - 4, x2: legendLeft + 22, y2: lineY - 4, stroke: colour, width: 2, dash: dash)
            svg.text("\(name) (AUC \(TextLayout.fixed(area, digits: 4)))", x: legendLeft + 28, y: lineY, size: 11)
        }
    }
}
