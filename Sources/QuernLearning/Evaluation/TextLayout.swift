import Foundation

/// The small pieces of layout the terminal tables and the SVG report
/// share: fixed decimals, names made safe to show and cut to a width, and
/// padding to a column.
enum TextLayout {
    /// `value` with `digits` decimals, as printf's `%.*f` rounds it.
    static func fixed(_ value: Double, digits: Int) -> String {
        String(format: "%.\(digits)f", value)
    }

    /// A class name as it can be shown: control characters (a newline
    /// would break a table row, and most of them are not allowed in XML)
    /// and the two non-characters XML forbids (U+FFFE, U+FFFF) become
    /// U+FFFD; an empty name is shown as "(empty)".
    static func displayName(_ name: String) -> String {
        guard !name.isEmpty else { return "(empty)" }
        var shown = ""
        for character in name {
            let unshowable = character.unicodeScalars.contains {
                $0.properties.generalCategory == .control || $0.value == 0xFFFE || $0.value == 0xFFFF
            }
            shown.append(unshowable ? "\u{FFFD}" : character)
        }
        return shown
    }

    /// `text` cut to `width` characters, the last one an ellipsis when cut.
    static func truncated(_ text: String, to width: Int) -> String {
        precondition(width >= 1, "a column is at least one character wide")
        guard text.count > width else { return text }
        return String(text.prefix(width - 1)) + "…"
    }

    static func padLeft(_ text: String, to width: Int) -> String {
        String(repeating: " ", count: max(0, width - text.count)) + text
    }

    static func padRight(_ text: String, to width: Int) -> String {
        text + String(repeating: " ", count: max(0, width - text.count))
    }
}
