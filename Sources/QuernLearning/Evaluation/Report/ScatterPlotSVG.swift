/// A regression head's predictions against the true values, one dot per
/// example (translucent, so crowded areas look darker), with the line
/// where they would be equal; both axes share one range.
enum ScatterPlotSVG {
    static let height = 500.0

    static func draw(_ evaluation: RegressionEvaluation, into svg: inout SVGWriter, top: Double) {
        let frame = ChartFrame(left: 82, top: top + 30, width: 420, height: 420)
        let values = evaluation.trueValues + evaluation.predictedValues
        let x = ChartScale(covering: values.min() ?? 0, values.max() ?? 1, from: frame.left, to: frame.right)
        let y = ChartScale(covering: x.lower, x.upper, from: frame.bottom, to: frame.top)
        frame.draw(into: &svg, title: "Predicted against true values", x: x, y: y, xName: "true value", yName: "predicted value")
        svg.line(x1: x.position(x.lower), y1: y.position(x.lower), x2: x.position(x.upper), y2: y.position(x.upper),
                 stroke: "#999999", dash: "5 4")
        let radius = evaluation.count > 2000 ? 1.5 : 2.5
        for (truth, prediction) in zip(evaluation.trueValues, evaluation.predictedValues) {
            svg.circle(x: x.position(truth), y: y.position(prediction), radius: radius, fill: ChartPalette.colour(0), opacity: 0.5)
        }
        frame.legend(into: &svg, entries: [("predicted = true", "#999999", "5 4")], atBottom: true)
    }
}
