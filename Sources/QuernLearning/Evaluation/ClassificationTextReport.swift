/// The terminal rendering of a classification evaluation: a per-class
/// table laid out like scikit-learn's `classification_report` (names
/// right-aligned, one column per metric, then accuracy and the averages),
/// with each class's one-vs-rest ROC-AUC as an extra column, then ROC-AUC,
/// log loss and the confusion matrix.
extension ClassificationEvaluation {
    /// - Parameters:
    ///   - digits: decimals of every ratio.
    ///   - nameWidth: longer class names are cut to this many characters.
    public func textReport(digits: Int = 4, nameWidth: Int = 24) -> String {
        precondition(digits >= 1 && nameWidth >= 4, "a readable table")
        let names = classes.map { TextLayout.truncated(TextLayout.displayName($0), to: nameWidth) }
        let labelWidth = max(names.map(\.count).max() ?? 0, "weighted avg".count)
        // As classification_report: a space, then 9 characters (more for many digits).
        let column = max(digits + 2, "precision".count) + 1
        func cell(_ value: Double?) -> String {
            TextLayout.padLeft(value.map { TextLayout.fixed($0, digits: digits) } ?? "n/a", to: column)
        }
        func row(_ label: String, _ cells: [String]) -> String {
            TextLayout.padLeft(label, to: labelWidth) + " " + cells.joined()
        }

        var lines: [String] = []
        let headers = ["precision", "recall", "f1-score", "support", "roc-auc"].map { TextLayout.padLeft($0, to: column) }
        lines.append(row("", headers))
        lines.append("")
        for (name, metrics) in zip(names, perClass) {
            lines.append(row(name, [cell(metrics.precision), cell(metrics.recall), cell(metrics.f1),
                                    TextLayout.padLeft(String(metrics.support), to: column), cell(metrics.rocAUC)]))
        }
        lines.append("")
        let blank = String(repeating: " ", count: column)
        let total = TextLayout.padLeft(String(count), to: column)
        lines.append(row("accuracy", [blank, blank, cell(accuracy), total]))
        for (label, average) in [("macro avg", macro), ("micro avg", micro), ("weighted avg", weighted)] {
            lines.append(row(label, [cell(average.precision), cell(average.recall), cell(average.f1), total]))
        }
        lines.append("")
        let method = rocAUC.method == .binary ? "positive class \"\(names[1])\"" : "one-vs-rest, macro"
        lines.append("ROC-AUC (\(method)): " + (rocAUC.value.map { TextLayout.fixed($0, digits: digits) } ?? "n/a"))
        if let note = rocAUC.note { lines.append("  " + TextLayout.displayName(note)) }
        lines.append("Log loss: " + TextLayout.fixed(logLoss, digits: digits))
        lines.append("")
        lines.append("Confusion matrix (rows: true class, columns: predicted class)")
        lines.append(contentsOf: confusionMatrixLines(names: names))
        return lines.joined(separator: "\n") + "\n"
    }

    /// With few short names the columns are headed by the names; otherwise
    /// by class numbers, which the rows repeat before each name, so twenty
    /// classes still fit a terminal.
    private func confusionMatrixLines(names: [String]) -> [String] {
        let countWidth = String(confusionMatrix.largestCount).count
        let namedColumns = names.count <= 8 && names.allSatisfy { $0.count <= 10 }
        if namedColumns {
            let labelWidth = names.map(\.count).max() ?? 0
            let widths = names.map { max($0.count, countWidth) }
            var lines = [TextLayout.padRight("", to: labelWidth) + zip(names, widths).map { "  " + TextLayout.padLeft($0, to: $1) }.joined()]
            for (name, counts) in zip(names, confusionMatrix.counts) {
                lines.append(TextLayout.padRight(name, to: labelWidth)
                             + zip(counts, widths).map { "  " + TextLayout.padLeft(String($0), to: $1) }.joined())
            }
            return lines
        }
        let indexWidth = String(names.count - 1).count
        let cellWidth = max(countWidth, indexWidth)
        let labelWidth = indexWidth + 2 + (names.map(\.count).max() ?? 0)
        var lines = [TextLayout.padRight("", to: labelWidth)
                     + names.indices.map { " " + TextLayout.padLeft(String($0), to: cellWidth) }.joined()]
        for (index, counts) in confusionMatrix.counts.enumerated() {
            let label = TextLayout.padLeft(String(index), to: indexWidth) + "  " + names[index]
            lines.append(TextLayout.padRight(label, to: labelWidth) + counts.map { " " + TextLayout.padLeft(String($0), to: cellWidth) }.joined())
        }
        return lines
    }
}

extension RegressionEvaluation {
    public func textReport(digits: Int = 4) -> String {
        var lines = [
            "examples  \(count)",
            "MAE       " + TextLayout.fixed(meanAbsoluteError, digits: digits),
            "RMSE      " + TextLayout.fixed(rootMeanSquaredError, digits: digits),
            "R²        " + (r2.map { TextLayout.fixed($0, digits: digits) } ?? "n/a"),
        ]
        if let r2Note { lines.append("  " + r2Note) }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension CrossValidationSummary {
    /// One line per metric: mean ± population standard deviation, and how
    /// many folds it covers when not all.
    public func textReport(digits: Int = 4) -> String {
        let nameWidth = statistics.map(\.name.count).max() ?? 0
        var lines = ["\(folds)-fold cross-validation: mean ± standard deviation over the folds (population, ddof=0)"]
        for statistic in statistics {
            var line = TextLayout.padRight(statistic.name, to: nameWidth) + "  "
            if let mean = statistic.mean, let deviation = statistic.standardDeviation {
                line += TextLayout.fixed(mean, digits: digits) + " ± " + TextLayout.fixed(deviation, digits: digits)
                if statistic.definedFolds < folds { line += "  (defined on \(statistic.definedFolds) of \(folds) folds)" }
            } else {
                line += "n/a (undefined on every fold)"
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
