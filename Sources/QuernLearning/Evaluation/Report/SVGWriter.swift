import Foundation

/// Builds an SVG document element by element: every attribute value and
/// every text escaped for XML, every coordinate written with at most two
/// decimals, so the same report always gives the same bytes.
struct SVGWriter {
    private var elements: [String] = []

    /// A <text>: `anchor` is start, middle or end; `rotation` turns it
    /// (degrees, clockwise) about its anchor point.
    mutating func text(_ content: String, x: Double, y: Double, size: Double = 12, anchor: String = "start",
                       fill: String = "#222222", bold: Bool = false, rotation: Double? = nil, tooltip: String? = nil) {
        var attributes = [("x", Self.number(x)), ("y", Self.number(y)), ("font-size", Self.number(size))]
        if anchor != "start" { attributes.append(("text-anchor", anchor)) }
        if fill != "#222222" { attributes.append(("fill", fill)) }
        if bold { attributes.append(("font-weight", "bold")) }
        if let rotation { attributes.append(("transform", "rotate(\(Self.number(rotation)) \(Self.number(x)) \(Self.number(y)))")) }
        let title = tooltip.map { "<title>\(Self.escaped($0))</title>" } ?? ""
        elements.append("<text\(Self.attributes(attributes))>\(title)\(Self.escaped(content))</text>")
    }

    mutating func line(x1: Double, y1: Double, x2: Double, y2: Double, stroke: String, width: Double = 1, dash: String? = nil) {
        var attributes = [("x1", Self.number(x1)), ("y1", Self.number(y1)), ("x2", Self.number(x2)), ("y2", Self.number(y2)),
                          ("stroke", stroke), ("stroke-width", Self.number(width))]
        if let dash { attributes.append(("stroke-dasharray", dash)) }
        elements.append("<line\(Self.attributes(attributes))/>")
    }

    mutating func rect(x: Double, y: Double, width: Double, height: Double, fill: String, stroke: String? = nil, tooltip: String? = nil) {
        var attributes = [("x", Self.number(x)), ("y", Self.number(y)), ("width", Self.number(width)),
                          ("height", Self.number(height)), ("fill", fill)]
        if let stroke { attributes.append(("stroke", stroke)) }
        if let tooltip {
            elements.append("<rect\(Self.attributes(attributes))><title>\(Self.escaped(tooltip))</title></rect>")
        } else {
            elements.append("<rect\(Self.attributes(attributes))/>")
        }
    }

    mutating func polyline(_ points: [(x: Double, y: Double)], stroke: String, width: Double = 2, dash: String? = nil) {
        let coordinates = points.map { "\(Self.number($0.x)),\(Self.number($0.y))" }.joined(separator: " ")
        var attributes = [("points", coordinates), ("fill", "none"), ("stroke", stroke), ("stroke-width", Self.number(width)),
                          ("stroke-linejoin", "round")]
        if let dash { attributes.append(("stroke-dasharray", dash)) }
        elements.append("<polyline\(Self.attributes(attributes))/>")
    }

    mutating func circle(x: Double, y: Double, radius: Double, fill: String, opacity: Double? = nil) {
        var attributes = [("cx", Self.number(x)), ("cy", Self.number(y)), ("r", Self.number(radius)), ("fill", fill)]
        if let opacity { attributes.append(("fill-opacity", Self.number(opacity))) }
        elements.append("<circle\(Self.attributes(attributes))/>")
    }

    /// The whole document, `width` × `height` user units, white background.
    func document(width: Double, height: Double, title: String) -> String {
        let size = "width=\"\(Self.number(width))\" height=\"\(Self.number(height))\" viewBox=\"0 0 \(Self.number(width)) \(Self.number(height))\""
        var lines = [
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
            "<svg xmlns=\"http://www.w3.org/2000/svg\" \(size) font-family=\"Helvetica, Arial, sans-serif\">",
            "<title>\(Self.escaped(title))</title>",
            "<rect x=\"0\" y=\"0\" width=\"\(Self.number(width))\" height=\"\(Self.number(height))\" fill=\"#ffffff\"/>",
        ]
        lines.append(contentsOf: elements)
        lines.append("</svg>")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Text made safe for XML character data and attribute values.
    static func escaped(_ text: String) -> String {
        var escaped = ""
        for character in TextLayout.displayName(text) {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&apos;"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// At most two decimals, no trailing zeros, never "-0"; a coordinate
    /// that overflowed (data near Double's limits) is drawn at 0 rather
    /// than written as "nan", which no SVG reader accepts.
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        var text = String(format: "%.2f", value)
        while text.contains("."), text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text == "-0" ? "0" : text
    }

    private static func attributes(_ pairs: [(String, String)]) -> String {
        pairs.map { " \($0.0)=\"\(escaped($0.1))\"" }.joined()
    }
}
