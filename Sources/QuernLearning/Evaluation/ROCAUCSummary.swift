/// The head's single ROC-AUC figure, and why it is missing or what it
/// leaves out.
///
/// Two classes: the area for the positive class (index 1), as
/// `roc_auc_score(y, p[:, 1])`. Several classes: one-vs-rest, the
/// unweighted mean of the classes' areas (`multi_class="ovr"`).
///
/// A class with no example in the test set has no one-vs-rest area. For
/// it scikit-learn 1.9.1 (given `labels=`) warns "Only one class is present
/// in y_true", returns NaN for that class, and so NaN for the macro mean.
/// We average over the classes that are present instead and name the
/// excluded ones, so the figure stays usable and says what it covers. A
/// test set of one class only has no ROC-AUC at all: nil, with the reason.
public struct ROCAUCSummary: Sendable, Equatable {
    public enum Method: String, Sendable {
        /// Two classes: the positive class's area.
        case binary
        /// Several classes: the mean of the one-vs-rest areas.
        case oneVersusRestMacro = "ovr_macro"
    }

    public let value: Double?
    public let method: Method
    /// Classes left out of the mean because the test set has none of them.
    public let excludedClasses: [String]
    /// Why `value` is nil, or what it leaves out; nil when nothing needs saying.
    public let note: String?

    /// From the classes' own areas (nil where undefined).
    init(classes: [String], perClassAreas: [Double?], supports: [Int]) {
        let present = supports.indices.filter { supports[$0] > 0 }
        method = classes.count == 2 ? .binary : .oneVersusRestMacro
        guard present.count >= 2 else {
            value = nil
            excludedClasses = []
            let only = present.first.map { " (\"\(classes[$0])\")" } ?? ""
            note = "ROC-AUC is undefined: the test set holds examples of one class only\(only)"
            return
        }
        if method == .binary {
            value = perClassAreas[1]
            excludedClasses = []
            note = nil
            return
        }
        let absent = supports.indices.filter { supports[$0] == 0 }
        excludedClasses = absent.map { classes[$0] }
        // np.nanmean's way: the missing areas summed as zeros, divided by the count present.
        value = NumPySum.sum(perClassAreas.map { $0 ?? 0 }) / Double(present.count)
        note = absent.isEmpty ? nil
            : "one-vs-rest mean over the \(present.count) classes in the test set; no examples of: "
                + excludedClasses.joined(separator: ", ")
    }
}
