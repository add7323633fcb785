/// The training history side by side: loss per epoch (training and
/// validation, the best validation epoch marked) and accuracy per epoch —
/// or, for a regression head, which has no accuracy, the learning rate.
enum EpochChartsSVG {
    /// Space the two charts take, titles and axis names included.
    static let height = 300.0

    typealias Series = (label: String, points: [(epoch: Double, value: Double)])

    static func draw(_ history: [EpochRecord], into svg: inout SVGWriter, top: Double, width: Double) {
        // Margins of 20 on both sides and 40 between the two charts.
        let panelWidth = (width - 80) / 2
        let losses: [Series] = [
            ("training loss", points(history) { $0.trainLoss }),
            ("validation loss", points(history) { $0.validationLoss }),
        ]
        let best = losses[1].points.min { $0.value < $1.value }
        chart(into: &svg, left: 20, top: top, width: panelWidth, title: "Loss per epoch", yName: "loss",
              series: losses, history: history, marker: best.map { ("best validation (epoch \(Int($0.epoch)))", $0.epoch) }, legendAtBottom: false)

        let accuracies: [Series] = [
            ("training accuracy", points(history) { $0.trainAccuracy }),
            ("validation accuracy", points(history) { $0.validationAccuracy }),
        ]
        if accuracies.contains(where: { !$0.points.isEmpty }) {
            chart(into: &svg, left: 20 + panelWidth + 40, top: top, width: panelWidth, title: "Accuracy per epoch",
                  yName: "accuracy", series: accuracies, history: history, marker: nil, legendAtBottom: true)
        } else {
            chart(into: &svg, left: 20 + panelWidth + 40, top: top, width: panelWidth, title: "Learning rate per epoch",
                  yName: "learning rate", series: [("learning rate", points(history) { $0.learningRate })],
                  history: history, marker: nil, legendAtBottom: false)
        }
    }

    /// The epochs where `value` is given and finite (a diverged loss is
    /// left out rather than stretching the axis to infinity).
    private static func points(_ history: [EpochRecord], _ value: (EpochRecord) -> Double?) -> [(epoch: Double, value: Double)] {
        history.compactMap { record in
            guard let value = value(record), value.isFinite else { return nil }
            return (Double(record.epoch), value)
        }
    }

    private static func chart(into svg: inout SVGWriter, left: Double, top: Double, width: Double, title: String, yName: String,
                              series: [Series], history: [EpochRecord], marker: (label: String, epoch: Double)?,
                              legendAtBottom: Bool) {
        let frame = ChartFrame(left: left + 62, top: top + 30, width: width - 78, height: 210)
        let epochs = history.map { Double($0.epoch) }
        let values = series.flatMap { $0.points.map(\.value) }
        let x = ChartScale(covering: epochs.min() ?? 1, epochs.max() ?? 1, integerSteps: true, from: frame.left, to: frame.right)
        let y = ChartScale(covering: values.min() ?? 0, values.max() ?? 1, from: frame.bottom, to: frame.top)
        frame.draw(into: &svg, title: title, x: x, y: y, xName: "epoch", yName: yName)

        var legend: [(label: String, colour: String, dash: String?)] = []
        for (index, entry) in series.enumerated() where !entry.points.isEmpty {
            let colour = ChartPalette.colour(index)
            let placed = entry.points.map { (x: x.position($0.epoch), y: y.position($0.value)) }
            svg.polyline(placed, stroke: colour)
            // Few epochs: dots, so a single epoch is still visible.
            if placed.count <= 40 { for point in placed { svg.circle(x: point.x, y: point.y, radius: 2.5, fill: colour) } }
            legend.append((entry.label, colour, nil))
        }
        if let marker {
            let position = x.position(marker.epoch)
            svg.line(x1: position, y1: frame.top, x2: position, y2: frame.bottom, stroke: "#888888", dash: "4 3")
            legend.append((marker.label, "#888888", "4 3"))
        }
        if !legend.isEmpty { frame.legend(into: &svg, entries: legend, atBottom: legendAtBottom) }
    }
}
