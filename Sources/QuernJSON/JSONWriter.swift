/// Serialises a `JSONValue` deterministically: keys in the order they were
/// built, `/` not escaped, non-ASCII written as UTF-8 (RFC 8259 allows it).
public enum JSONWriter {
    public enum Style: Sendable {
        /// One line, no spaces: JSON Lines for `quern run`.
        case compact
        /// Two-space indentation for results people open in the outbox.
        /// Arrays of numbers (embeddings) stay on one line to keep files short.
        case pretty
    }

    public static func bytes(_ value: JSONValue, style: Style) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(512)
        write(value, style: style, indent: 0, into: &output)
        return output
    }

    public static func string(_ value: JSONValue, style: Style) -> String {
        String(decoding: bytes(value, style: style), as: UTF8.self)
    }

    private static func write(_ value: JSONValue, style: Style, indent: Int, into output: inout [UInt8]) {
        switch value {
        case .null: output.append(contentsOf: "null".utf8)
        case let .bool(flag): output.append(contentsOf: (flag ? "true" : "false").utf8)
        case let .number(text): output.append(contentsOf: text.utf8)
        case let .string(text): writeString(text, into: &output)
        case let .array(elements):
            let scalarsOnly = elements.allSatisfy { if case .array = $0 { return false }; if case .object = $0 { return false }; return true }
            if elements.isEmpty || style == .compact || scalarsOnly {
                output.append(UInt8(ascii: "["))
                for (position, element) in elements.enumerated() {
                    if position > 0 { output.append(contentsOf: style == .compact || !scalarsOnly ? [0x2C] : [0x2C, 0x20]) }
                    write(element, style: style, indent: indent, into: &output)
                }
                output.append(UInt8(ascii: "]"))
                return
            }
            output.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                if position > 0 { output.append(0x2C) }
                newline(indent + 1, into: &output)
                write(element, style: style, indent: indent + 1, into: &output)
            }
            newline(indent, into: &output)
            output.append(UInt8(ascii: "]"))
        case let .object(members):
            output.append(UInt8(ascii: "{"))
            for (position, member) in members.enumerated() {
                if position > 0 { output.append(0x2C) }
                if style == .pretty { newline(indent + 1, into: &output) }
                writeString(member.key, into: &output)
                output.append(UInt8(ascii: ":"))
                if style == .pretty { output.append(0x20) }
                write(member.value, style: style, indent: indent + 1, into: &output)
            }
            if style == .pretty, !members.isEmpty { newline(indent, into: &output) }
            output.append(UInt8(ascii: "}"))
        }
    }

    private static func newline(_ indent: Int, into output: inout [UInt8]) {
        output.append(0x0A)
        output.append(contentsOf: repeatElement(0x20, count: indent * 2))
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    private static func writeString(_ text: String, into output: inout [UInt8]) {
        output.append(0x22)
        for byte in text.utf8 {
            switch byte {
            case 0x22: output.append(contentsOf: [0x5C, 0x22])
            case 0x5C: output.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: output.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: output.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: output.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0x00..<0x20, 0x7F:
                output.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0xF)]])
            default: output.append(byte)
            }
        }
        output.append(0x22)
    }
}
