import Foundation

/// The confusion matrix as a heat map: one square per (true, predicted)
/// pair with its count, coloured by the share of the true class's examples
/// it holds (row-normalised, so a rare class is as visible as a common
/// one); class names on both axes, cut to a width, whole in each cell's
/// tooltip. Cells shrink with the class count, to 28 units at 20 classes.
enum ConfusionHeatMapSVG {
    private static let maximumNameCharacters = 24
    private static let characterWidth = 6.6

    /// Draws the section from `top`; returns the height it took.
    static func draw(_ evaluation: ClassificationEvaluation, into svg: inout SVGWriter, top: Double) -> Double {
        let classCount = evaluation.classes.count
        let fullNames = evaluation.classes.map(TextLayout.displayName)
        let names = fullNames.map { TextLayout.truncated($0, to: maximumNameCharacters) }
        let longest = Double(names.map(\.count).max() ?? 0)
        let cell = min(72, max(28, (560 / Double(classCount)).rounded(.down)))
        let left = 20 + 28 + longest * characterWidth + 10
        let gridTop = top + 44
        let side = cell * Double(classCount)

        svg.text("Confusion matrix", x: 20, y: top + 16, size: 14, bold: true)
        svg.text("rows: true class · columns: predicted class · colour: share of the true class's examples",
                 x: 20, y: top + 32, size: 11, fill: "#555555")

        let counts = evaluation.confusionMatrix.counts
        let digits = Double(String(evaluation.confusionMatrix.largestCount).count)
        let fontSize = min(13, cell * 0.42, cell / (digits * 0.62))
        for (row, rowCounts) in counts.enumerated() {
            let rowTotal = rowCounts.reduce(0, +)
            let y = gridTop + Double(row) * cell
            svg.text(names[row], x: left - 8, y: y + cell / 2 + 4, size: 12, anchor: "end",
                     tooltip: names[row] == fullNames[row] ? nil : fullNames[row])
            for (column, count) in rowCounts.enumerated() {
                let share = rowTotal == 0 ? 0 : Double(count) / Double(rowTotal)
                let x = left + Double(column) * cell
                let percent = TextLayout.fixed(share * 100, digits: 1)
                svg.rect(x: x, y: y, width: cell, height: cell, fill: colour(share), stroke: "#ffffff",
                         tooltip: "true \(fullNames[row]), predicted \(fullNames[column]): \(count) (\(percent)% of the row)")
                svg.text(String(count), x: x + cell / 2, y: y + cell / 2 + fontSize * 0.35, size: fontSize, anchor: "middle",
                         fill: share > 0.5 ? "#ffffff" : "#222222")
            }
        }

        // Column names: level when they fit their cell, else at 45°.
        let fitsLevel = longest * characterWidth <= cell - 4
        let labelsTop = gridTop + side + 16
        for (column, name) in names.enumerated() {
            let x = left + Double(column) * cell + cell / 2
            if fitsLevel {
                svg.text(name, x: x, y: labelsTop, size: 12, anchor: "middle")
            } else {
                svg.text(name, x: x + 4, y: labelsTop - 6, size: 12, anchor: "end", rotation: -45,
                         tooltip: name == fullNames[column] ? nil : fullNames[column])
            }
        }
        let labelsHeight = fitsLevel ? 8 : longest * characterWidth * 0.71 + 4
        let axisNameY = labelsTop + labelsHeight + 16
        svg.text("predicted class", x: left + side / 2, y: axisNameY, size: 12, anchor: "middle", fill: "#444444")
        svg.text("true class", x: 32, y: gridTop + side / 2, size: 12, anchor: "middle", fill: "#444444", rotation: -90)
        return axisNameY + 12 - top
    }

    /// White to dark blue (matplotlib's "Blues" ends) by `share` in 0…1.
    private static func colour(_ share: Double) -> String {
        let light = (247.0, 251.0, 255.0), dark = (8.0, 48.0, 107.0)
        func channel(_ a: Double, _ b: Double) -> String {
            let value = Int((a + (b - a) * share).rounded())
            return String(format: "%02x", value)
        }
        return "#" + channel(light.0, dark.0) + channel(light.1, dark.1) + channel(light.2, dark.2)
    }
}
