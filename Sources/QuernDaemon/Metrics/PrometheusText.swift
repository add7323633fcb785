/// The Prometheus text exposition format, version 0.0.4: what a scrape of
/// `/metrics` reads. https://prometheus.io/docs/instrumenting/exposition_formats/
public enum PrometheusText {
    /// The Content-Type of a response in this format.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// `[a-zA-Z_:][a-zA-Z0-9_:]*`
    public static func isValidMetricName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, isLetterOrUnderscore(first) || first == ":" else { return false }
        return name.unicodeScalars.allSatisfy { isLetterOrUnderscore($0) || isDigit($0) || $0 == ":" }
    }

    /// `[a-zA-Z_][a-zA-Z0-9_]*`, and not starting with `__` (reserved).
    public static func isValidLabelName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, isLetterOrUnderscore(first), !name.hasPrefix("__") else { return false }
        return name.unicodeScalars.allSatisfy { isLetterOrUnderscore($0) || isDigit($0) }
    }

    /// A label value inside its quotes: backslash, double quote and line feed escaped.
    public static func escapeLabelValue(_ value: String) -> String {
        var escaped = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }

    /// HELP text: backslash and line feed escaped (quotes stay as they are).
    public static func escapeHelp(_ text: String) -> String {
        var escaped = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }

    /// A sample value or an `le` bound as the format spells it: whole
    /// numbers without a fraction, `+Inf`, `-Inf` and `NaN`, else the
    /// shortest text that reads back as the same Double (Go's and Python's
    /// float parsers take Swift's "1e-05").
    public static func number(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value == .infinity { return "+Inf" }
        if value == -.infinity { return "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    static func header(_ descriptor: MetricDescriptor, into text: inout String) {
        text += "# HELP \(descriptor.name) \(escapeHelp(descriptor.help))\n"
        text += "# TYPE \(descriptor.name) \(descriptor.type.rawValue)\n"
    }

    static func sample(_ name: String, names: [String], values: [String], value: Double, into text: inout String) {
        text += name
        if !names.isEmpty {
            text += "{"
            for (index, label) in names.enumerated() {
                if index > 0 { text += "," }
                text += "\(label)=\"\(escapeLabelValue(values[index]))\""
            }
            text += "}"
        }
        text += " \(number(value))\n"
    }

    /// Series in a stable order, so two scrapes line up.
    static func labelOrder(_ left: [String], _ right: [String]) -> Bool { left.lexicographicallyPrecedes(right) }

    private static func isLetterOrUnderscore(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || scalar == "_"
    }

    private static func isDigit(_ scalar: Unicode.Scalar) -> Bool { ("0"..."9").contains(scalar) }
}
