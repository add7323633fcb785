/// The frame every chart of the report shares: a title above the plot
/// area, light grid lines at the ticks, tick labels, and the axes' names.
struct ChartFrame {
    /// The plot area, in SVG coordinates.
    let left: Double
    let top: Double
    let width: Double
    let height: Double

    var right: Double { left + width }
    var bottom: Double { top + height }

    func draw(into svg: inout SVGWriter, title: String, x: ChartScale, y: ChartScale, xName: String, yName: String) {
        svg.text(title, x: left, y: top - 12, size: 14, bold: true)
        for tick in y.ticks {
            let position = y.position(tick)
            svg.line(x1: left, y1: position, x2: right, y2: position, stroke: "#e6e6e6")
            svg.text(y.label(tick), x: left - 6, y: position + 4, size: 11, anchor: "end", fill: "#555555")
        }
        for tick in x.ticks {
            let position = x.position(tick)
            svg.line(x1: position, y1: top, x2: position, y2: bottom, stroke: "#e6e6e6")
            svg.text(x.label(tick), x: position, y: bottom + 16, size: 11, anchor: "middle", fill: "#555555")
        }
        svg.line(x1: left, y1: bottom, x2: right, y2: bottom, stroke: "#444444")
        svg.line(x1: left, y1: top, x2: left, y2: bottom, stroke: "#444444")
        svg.text(xName, x: left + width / 2, y: bottom + 34, size: 12, anchor: "middle", fill: "#444444")
        svg.text(yName, x: left - 44, y: top + height / 2, size: 12, anchor: "middle", fill: "#444444", rotation: -90)
    }

    /// A legend in the plot area's top-right or bottom-right corner
    /// (where the curves usually are not), one line per series with its
    /// colour and dash.
    func legend(into svg: inout SVGWriter, entries: [(label: String, colour: String, dash: String?)], atBottom: Bool = false) {
        let lineHeight = 16.0
        let longest = entries.map(\.label.count).max() ?? 0
        let boxWidth = 34 + Double(longest) * 6.6
        let boxHeight = Double(entries.count) * lineHeight + 8
        let boxLeft = right - boxWidth - 8
        let boxTop = atBottom ? bottom - boxHeight - 8 : top + 8
        svg.rect(x: boxLeft, y: boxTop, width: boxWidth, height: boxHeight, fill: "#ffffff", stroke: "#cccccc")
        for (index, entry) in entries.enumerated() {
            let y = boxTop + 16 + Double(index) * lineHeight
            svg.line(x1: boxLeft + 6, y1: y - 4, x2: boxLeft + 26, y2: y - 4, stroke: entry.colour, width: 2, dash: entry.dash)
            svg.text(entry.label, x: boxLeft + 30, y: y, size: 11)
        }
    }
}

/// Series colours (matplotlib's "tab10"); past ten series they repeat
/// with a dashed line so twenty classes stay distinguishable.
enum ChartPalette {
    static let colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                          "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

    static func colour(_ index: Int) -> String { colours[index % colours.count] }

    static func dash(_ index: Int) -> String? { (index / colours.count) % 2 == 1 ? "6 3" : nil }
}
