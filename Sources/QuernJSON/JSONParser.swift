/// The one JSON parser: strict RFC 8259 over UTF-8 bytes, for requests and
/// for every JSON file a model folder carries. Both are hostile input, so:
///
/// - nesting depth is capped (a recursive parser must not overflow the
///   stack on `[[[[…`);
/// - a key that appears twice in an object is an error (which value wins
///   would be a guess, and two tensors of one name is what a hostile
///   checkpoint would try);
/// - strings must be UTF-8 and escapes well-formed (no lone surrogates);
/// - nothing but whitespace may follow the document.
///
/// Object members keep their order and numbers keep their text (see
/// `JSONValue`). Errors carry a stable code and the line and column.
public struct JSONParser {
    /// The deepest nesting of arrays and objects accepted. Requests and
    /// model files alike need a handful of levels.
    public static let maximumDepth = 64

    public static func parse(_ bytes: [UInt8]) throws(JSONSyntaxError) -> JSONValue {
        // withUnsafeBytes is not typed-throws; the result carries the error out.
        let outcome = bytes.withUnsafeBytes { raw in Result { () throws(JSONSyntaxError) -> JSONValue in try parse(raw) } }
        return try outcome.get()
    }

    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(JSONSyntaxError) -> JSONValue {
        var parser = JSONParser(bytes: bytes)
        parser.skipWhitespace()
        let value = try parser.parseValue()
        parser.skipWhitespace()
        if parser.index < bytes.count { throw parser.failure(.trailingData, "unexpected data after the JSON document") }
        return value
    }

    private let bytes: UnsafeRawBufferPointer
    private var index = 0
    private var depth = 0

    private init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func parseValue() throws(JSONSyntaxError) -> JSONValue {
        guard let byte = current else { throw failure(.unexpectedEnd, "unexpected end of document") }
        switch byte {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw failure(.unexpectedCharacter, "unexpected character '\(printable(byte))'")
        }
    }

    private mutating func enterContainer() throws(JSONSyntaxError) {
        depth += 1
        if depth > Self.maximumDepth { throw failure(.tooDeep, "nesting deeper than \(Self.maximumDepth) levels") }
    }

    private mutating func parseObject() throws(JSONSyntaxError) -> JSONValue {
        try enterContainer()
        index += 1
        var members: [(key: String, value: JSONValue)] = []
        var seen = Set<String>()
        skipWhitespace()
        if consume(UInt8(ascii: "}")) { depth -= 1; return .object(members) }
        while true {
            skipWhitespace()
            guard current == UInt8(ascii: "\"") else { throw unexpected("expected a string key") }
            let keyStart = index
            let key = try parseString()
            guard seen.insert(key).inserted else {
                index = keyStart
                throw failure(.duplicateKey, "duplicate key \"\(key)\"")
            }
            skipWhitespace()
            guard consume(UInt8(ascii: ":")) else { throw unexpected("expected ':' after key \"\(key)\"") }
            skipWhitespace()
            members.append((key, try parseValue()))
            skipWhitespace()
            if consume(UInt8(ascii: ",")) { continue }
            if consume(UInt8(ascii: "}")) { break }
            throw unexpected("expected ',' or '}' in object")
        }
        depth -= 1
        return .object(members)
    }

    private mutating func parseArray() throws(JSONSyntaxError) -> JSONValue {
        try enterContainer()
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if consume(UInt8(ascii: "]")) { depth -= 1; return .array(elements) }
        while true {
            skipWhitespace()
            elements.append(try parseValue())
            skipWhitespace()
            if consume(UInt8(ascii: ",")) { continue }
            if consume(UInt8(ascii: "]")) { break }
            throw unexpected("expected ',' or ']' in array")
        }
        depth -= 1
        return .array(elements)
    }

    /// A `"`-delimited string (the opening quote at `index`). Without
    /// escapes the bytes are the string; with them it is rebuilt byte by byte.
    private mutating func parseString() throws(JSONSyntaxError) -> String {
        index += 1
        let start = index
        while let byte = current, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\"), byte >= 0x20 { index += 1 }
        if current == UInt8(ascii: "\"") {
            let text = String(validating: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            index += 1
            guard let text else { throw failure(.invalidString, "string is not valid UTF-8") }
            return text
        }
        var utf8 = Array(UnsafeRawBufferPointer(rebasing: bytes[start..<index]))
        while true {
            guard let byte = current else { throw failure(.invalidString, "unterminated string") }
            if byte == UInt8(ascii: "\"") {
                index += 1
                break
            }
            if byte < 0x20 { throw failure(.invalidString, "control character in string (escape it as \\u00XX)") }
            index += 1
            guard byte == UInt8(ascii: "\\") else {
                utf8.append(byte)
                continue
            }
            guard let escaped = current else { throw failure(.invalidString, "unterminated escape") }
            index += 1
            switch escaped {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escaped)
            case UInt8(ascii: "b"): utf8.append(0x08)
            case UInt8(ascii: "f"): utf8.append(0x0C)
            case UInt8(ascii: "n"): utf8.append(0x0A)
            case UInt8(ascii: "r"): utf8.append(0x0D)
            case UInt8(ascii: "t"): utf8.append(0x09)
            case UInt8(ascii: "u"): utf8.append(contentsOf: String(Character(try parseUnicodeEscape())).utf8)
            default:
                index -= 1
                throw failure(.invalidEscape, "invalid escape '\\\(printable(escaped))'")
            }
        }
        guard let text = String(validating: utf8, as: UTF8.self) else {
            throw failure(.invalidString, "string is not valid UTF-8")
        }
        return text
    }

    /// The scalar of a `\uXXXX` escape (the `\u` already read), joining a
    /// surrogate pair; a lone surrogate is an error.
    private mutating func parseUnicodeEscape() throws(JSONSyntaxError) -> Unicode.Scalar {
        let high = try parseHex4()
        if (0xD800...0xDBFF).contains(high) {
            guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                throw failure(.invalidEscape, "unpaired surrogate \\u\(hex(high))")
            }
            index += 2
            let low = try parseHex4()
            guard (0xDC00...0xDFFF).contains(low) else { throw failure(.invalidEscape, "invalid low surrogate \\u\(hex(low))") }
            let combined = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
            guard let scalar = Unicode.Scalar(combined) else { throw failure(.invalidEscape, "invalid code point") }
            return scalar
        }
        // Unicode.Scalar refuses the surrogate range, which leaves lone low surrogates.
        guard let scalar = Unicode.Scalar(high) else { throw failure(.invalidEscape, "unpaired surrogate \\u\(hex(high))") }
        return scalar
    }

    private mutating func parseHex4() throws(JSONSyntaxError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw failure(.invalidEscape, "truncated \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw failure(.invalidEscape, "invalid hex digit in \\u escape")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    /// A number's text, checked against the JSON grammar but not converted:
    /// readers convert it to the type they need, exactly once.
    private mutating func parseNumber() throws(JSONSyntaxError) -> String {
        let start = index
        _ = consume(UInt8(ascii: "-"))
        if consume(UInt8(ascii: "0")) {
            // A leading zero stands alone: `01` is not JSON.
        } else if !consumeDigits() {
            throw failure(.invalidNumber, "invalid number")
        }
        if consume(UInt8(ascii: ".")), !consumeDigits() { throw failure(.invalidNumber, "expected digits after '.'") }
        if consume(UInt8(ascii: "e")) || consume(UInt8(ascii: "E")) {
            if !consume(UInt8(ascii: "+")) { _ = consume(UInt8(ascii: "-")) }
            if !consumeDigits() { throw failure(.invalidNumber, "expected digits in exponent") }
        }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
    }

    private mutating func consumeDigits() -> Bool {
        let start = index
        while let byte = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { index += 1 }
        return index > start
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONSyntaxError) {
        let expected = UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount)
        guard index + expected.count <= bytes.count, bytes[index..<index + expected.count].elementsEqual(expected) else {
            throw failure(.invalidLiteral, "invalid literal (expected '\(literal)')")
        }
        index += expected.count
    }

    private mutating func consume(_ byte: UInt8) -> Bool {
        guard current == byte else { return false }
        index += 1
        return true
    }

    private mutating func skipWhitespace() {
        while let byte = current, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1 }
    }

    /// A structural expectation not met: the end of the document, or another character.
    private func unexpected(_ reason: String) -> JSONSyntaxError {
        failure(index < bytes.count ? .unexpectedCharacter : .unexpectedEnd, reason)
    }

    /// An error at `index`. Line and column are counted only here, on the
    /// way out: a document that parses never pays for them.
    private func failure(_ code: JSONSyntaxError.Code, _ reason: String) -> JSONSyntaxError {
        let end = min(index, bytes.count)
        var line = 1
        var lineStart = 0
        for position in 0..<end where bytes[position] == 0x0A {
            line += 1
            lineStart = position + 1
        }
        return JSONSyntaxError(code: code, reason: reason, line: line, column: index - lineStart + 1, offset: index)
    }

    private func printable(_ byte: UInt8) -> String {
        (0x21...0x7E).contains(byte) ? String(UnicodeScalar(byte)) : "0x" + hex(UInt32(byte))
    }

    private func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
