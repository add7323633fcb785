#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A configuration file (`--config`, `QUERN_CONFIG`, `/etc/quern/quern.toml`)
/// as read: every `key = value` at the top level with the line it is on.
///
/// Quern reads the subset of TOML a flat list of options needs, with its own
/// small parser rather than a TOML library, because every message about the
/// file must name the line a key is on (an unknown key, a value an option
/// refuses, and `quern config`'s "where did this come from"), and the
/// libraries at hand report positions only for syntax errors — and they would
/// add a C++ TOML implementation to every from-scratch CI build.
///
/// Read: comments (`#`), bare and quoted keys, basic (`"…"` with TOML's
/// escapes) and literal (`'…'`) strings, integers (decimal with `_`, `0x`,
/// `0o`, `0b`), floats (including `inf` and `nan`, which options then refuse),
/// booleans, and arrays of those (over several lines, trailing comma allowed).
/// Refused with a message naming the line: tables (`[serve]`), dotted keys,
/// inline tables, multi-line strings, dates, and duplicate keys.
public struct ConfigurationFile: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var key: String
        public var value: Value
        /// 1-based.
        public var line: Int
    }

    public enum Value: Sendable, Equatable {
        case string(String)
        /// The number's text as written, underscores removed; hexadecimal,
        /// octal and binary integers are given in decimal.
        case integer(String)
        case float(String)
        case boolean(Bool)
        case array([Value])

        /// The value as an option reads it: what the same setting's
        /// `QUERN_*` variable would hold. An array gives its elements;
        /// the caller decides whether the option takes a list.
        public var optionText: String {
            switch self {
            case let .string(text), let .integer(text), let .float(text): return text
            case let .boolean(value): return value ? "true" : "false"
            case let .array(values): return values.map(\.optionText).joined(separator: ", ")
            }
        }

        /// As TOML writes it, for messages.
        public var tomlText: String {
            switch self {
            case let .string(text): return ConfigurationFile.quoted(text)
            case let .integer(text), let .float(text): return text
            case let .boolean(value): return value ? "true" : "false"
            case let .array(values): return "[" + values.map(\.tomlText).joined(separator: ", ") + "]"
            }
        }
    }

    /// The path it was read from, as given.
    public var path: String
    public var entries: [Entry]

    public init(path: String, entries: [Entry]) {
        self.path = path
        self.entries = entries
    }

    public func entry(_ key: String) -> Entry? { entries.first { $0.key == key } }

    /// The largest configuration file read: far beyond any list of options,
    /// small enough that a wrong path (a log, a device) fails at once.
    static let maximumBytes = 1 << 20

    /// Reads and parses `path`.
    public static func read(path: String) throws(ConfigurationFileError) -> ConfigurationFile {
        let bytes = try readBytes(path)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ConfigurationFileError(path: path, line: nil, key: nil, code: .syntax, message: "it is not UTF-8 text")
        }
        return try parse(text, path: path)
    }

    /// The file's bytes through open(2)/read(2), which also read what is not
    /// a regular file (`/dev/null`: no configuration).
    private static func readBytes(_ path: String) throws(ConfigurationFileError) -> [UInt8] {
        let unreadable = { (reason: String) in
            ConfigurationFileError(path: path, line: nil, key: nil, code: .unreadable, message: "cannot read it: \(reason)")
        }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw unreadable(String(cString: strerror(errno))) }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw unreadable(String(cString: strerror(errno)))
            }
            if count == 0 { return bytes }
            bytes += buffer[0..<count]
            if bytes.count > maximumBytes { throw unreadable("it is larger than \(maximumBytes >> 20) MiB: not a configuration file") }
        }
    }

    /// Parses TOML text; `path` is only for messages.
    public static func parse(_ text: String, path: String) throws(ConfigurationFileError) -> ConfigurationFile {
        var parser = Parser(scalars: Array(text.unicodeScalars), path: path)
        return ConfigurationFile(path: path, entries: try parser.document())
    }

    static func quoted(_ text: String) -> String { QuotedText.quoted(text) }
}

/// A configuration file Quern cannot use: unreadable, not TOML (of the subset
/// Quern reads), an unknown key, or a value an option refuses. The message
/// names the file, the line and the key.
public struct ConfigurationFileError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case unreadable = "config.unreadable"
        case syntax = "config.syntax"
        case unsupported = "config.unsupported"
        case unknownKey = "config.unknown_key"
        case duplicateKey = "config.duplicate_key"
        case invalidValue = "config.invalid_value"
    }

    public let path: String
    /// 1-based; nil when the whole file is concerned.
    public let line: Int?
    public let key: String?
    public let code: Code
    public let message: String

    public var description: String {
        var location = path
        if let line { location += ":\(line)" }
        let subject = key.map { "key \"\($0)\": " } ?? ""
        return "\(location): \(subject)\(message)"
    }
}

/// A recursive-descent reader over the file's Unicode scalars that counts lines.
private struct Parser {
    let scalars: [Unicode.Scalar]
    let path: String
    var index = 0
    var line = 1

    init(scalars: [Unicode.Scalar], path: String) {
        // A byte-order mark some editors write is not part of the text.
        self.scalars = scalars.first == "\u{FEFF}" ? Array(scalars.dropFirst()) : scalars
        self.path = path
    }

    private var current: Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }

    private func peek(_ offset: Int) -> Unicode.Scalar? {
        index + offset < scalars.count ? scalars[index + offset] : nil
    }

    private mutating func advance() {
        if current == "\n" { line += 1 }
        index += 1
    }

    private func failure(_ code: ConfigurationFileError.Code, _ message: String, key: String? = nil, line: Int? = nil) -> ConfigurationFileError {
        ConfigurationFileError(path: path, line: line ?? self.line, key: key, code: code, message: message)
    }

    /// A syntax error.
    private func failure(_ message: String, key: String? = nil, line: Int? = nil) -> ConfigurationFileError {
        failure(.syntax, message, key: key, line: line)
    }

    mutating func document() throws(ConfigurationFileError) -> [ConfigurationFile.Entry] {
        var entries: [ConfigurationFile.Entry] = []
        while true {
            skipBlank()
            guard let scalar = current else { return entries }
            if scalar == "\n" || scalar == "\r" {
                try endOfLine()
                continue
            }
            if scalar == "#" {
                try skipComment()
                continue
            }
            if scalar == "[" {
                throw failure(.unsupported, "tables ([…]) are not used in Quern's configuration: put every key at the top level, e.g. timeout = 120")
            }
            let keyLine = line
            let key = try readKey()
            skipBlank()
            guard current == "=" else {
                if current == "." { throw failure(.unsupported, "dotted keys are not used in Quern's configuration: every key is an option's name, e.g. max-memory", key: key) }
                throw failure("expected = after the key", key: key)
            }
            advance()
            skipBlank()
            let value = try readValue(key: key)
            if entries.contains(where: { $0.key == key }) {
                let first = entries.first { $0.key == key }?.line ?? 0
                throw failure(.duplicateKey, "set twice (first on line \(first))", key: key, line: keyLine)
            }
            entries.append(ConfigurationFile.Entry(key: key, value: value, line: keyLine))
            skipBlank()
            if current == "#" { try skipComment() }
            guard current == nil || current == "\n" || current == "\r" else {
                throw failure("unexpected text after the value (one key = value per line)", key: key)
            }
        }
    }

    private mutating func skipBlank() {
        while current == " " || current == "\t" { advance() }
    }

    private mutating func endOfLine() throws(ConfigurationFileError) {
        if current == "\r" {
            advance()
            guard current == "\n" else { throw failure("a carriage return not followed by a line feed") }
        }
        advance()
    }

    private mutating func skipComment() throws(ConfigurationFileError) {
        while let scalar = current, scalar != "\n" {
            if scalar == "\r", peek(1) == "\n" { break }
            if Self.isControl(scalar) && scalar != "\t" { throw failure("a control character in a comment") }
            advance()
        }
    }

    private mutating func readKey() throws(ConfigurationFileError) -> String {
        guard let scalar = current else { throw failure("expected a key") }
        if scalar == "\"" { return try basicString(key: nil) }
        if scalar == "'" { return try literalString(key: nil) }
        var key = ""
        while let scalar = current, Self.isBareKeyScalar(scalar) {
            key.unicodeScalars.append(scalar)
            advance()
        }
        if key.isEmpty { throw failure("expected a key (letters, digits, - and _), found \(Self.describe(scalar))") }
        return key
    }

    private mutating func readValue(key: String) throws(ConfigurationFileError) -> ConfigurationFile.Value {
        guard let scalar = current, scalar != "\n", scalar != "\r", scalar != "#" else {
            throw failure("no value after =", key: key)
        }
        switch scalar {
        case "\"":
            if peek(1) == "\"", peek(2) == "\"" { throw failure(.unsupported, "multi-line strings (\"\"\") are not used in Quern's configuration", key: key) }
            return .string(try basicString(key: key))
        case "'":
            if peek(1) == "'", peek(2) == "'" { throw failure(.unsupported, "multi-line strings (''') are not used in Quern's configuration", key: key) }
            return .string(try literalString(key: key))
        case "[":
            return try array(key: key)
        case "{":
            throw failure(.unsupported, "inline tables ({…}) are not used in Quern's configuration", key: key)
        default:
            return try bareValue(key: key)
        }
    }

    private mutating func array(key: String) throws(ConfigurationFileError) -> ConfigurationFile.Value {
        advance()  // [
        var values: [ConfigurationFile.Value] = []
        while true {
            try skipBlankLinesAndComments()
            guard let scalar = current else { throw failure("the array is not closed with ]", key: key) }
            if scalar == "]" {
                advance()
                return .array(values)
            }
            if scalar == "[" { throw failure(.unsupported, "arrays of arrays are not used in Quern's configuration", key: key) }
            values.append(try readValue(key: key))
            try skipBlankLinesAndComments()
            if current == "," {
                advance()
            } else if current != "]" {
                throw failure("expected , or ] in the array", key: key)
            }
        }
    }

    private mutating func skipBlankLinesAndComments() throws(ConfigurationFileError) {
        while true {
            skipBlank()
            if current == "#" { try skipComment() }
            if current == "\n" || current == "\r" {
                try endOfLine()
                continue
            }
            return
        }
    }

    private mutating func basicString(key: String?) throws(ConfigurationFileError) -> String {
        advance()  // "
        var text = ""
        while true {
            guard let scalar = current, scalar != "\n" else { throw failure("the string is not closed with \" on this line", key: key) }
            advance()
            switch scalar {
            case "\"":
                return text
            case "\\":
                guard let escape = current else { throw failure("the string is not closed", key: key) }
                advance()
                switch escape {
                case "b": text += "\u{08}"
                case "t": text += "\t"
                case "n": text += "\n"
                case "f": text += "\u{0C}"
                case "r": text += "\r"
                case "e": text += "\u{1B}"
                case "\"": text += "\""
                case "\\": text += "\\"
                case "u", "U":
                    let digits = escape == "u" ? 4 : 8
                    var hex = ""
                    for _ in 0..<digits {
                        guard let digit = current, digit.properties.isASCIIHexDigit else {
                            throw failure("\\\(escape) needs \(digits) hexadecimal digits", key: key)
                        }
                        hex.unicodeScalars.append(digit)
                        advance()
                    }
                    guard let value = UInt32(hex, radix: 16), let decoded = Unicode.Scalar(value) else {
                        throw failure("\\\(escape)\(hex) is not a Unicode scalar value", key: key)
                    }
                    text.unicodeScalars.append(decoded)
                default:
                    throw failure("unknown escape \\\(escape) (use \\\\ for a backslash, or a 'literal string')", key: key)
                }
            default:
                if Self.isControl(scalar), scalar != "\t" { throw failure("a control character in a string (write it as an escape)", key: key) }
                text.unicodeScalars.append(scalar)
            }
        }
    }

    private mutating func literalString(key: String?) throws(ConfigurationFileError) -> String {
        advance()  // '
        var text = ""
        while true {
            guard let scalar = current, scalar != "\n" else { throw failure("the string is not closed with ' on this line", key: key) }
            advance()
            if scalar == "'" { return text }
            if Self.isControl(scalar), scalar != "\t" { throw failure("a control character in a string", key: key) }
            text.unicodeScalars.append(scalar)
        }
    }

    /// true, false, a number, or a date (refused): everything up to a
    /// separator.
    private mutating func bareValue(key: String) throws(ConfigurationFileError) -> ConfigurationFile.Value {
        var word = ""
        while let scalar = current, !" \t\n\r,]#".unicodeScalars.contains(scalar) {
            word.unicodeScalars.append(scalar)
            advance()
        }
        if word == "true" { return .boolean(true) }
        if word == "false" { return .boolean(false) }
        if let integer = Self.integer(word) { return .integer(integer) }
        if let float = Self.float(word) { return .float(float) }
        if word.count >= 10, word.unicodeScalars.prefix(4).allSatisfy({ $0.properties.numericType != nil }), word.contains("-") || word.contains(":") {
            throw failure(.unsupported, "dates and times are not used in Quern's configuration; quote the text if it is a name", key: key)
        }
        throw failure("\(word.isEmpty ? "nothing" : "\"\(word)\"") is not a TOML value: quote text (\"…\"), or write a number, true or false", key: key)
    }

    /// A TOML integer as decimal text, or nil.
    static func integer(_ word: String) -> String? {
        var body = Substring(word)
        var sign = ""
        if let first = body.first, first == "+" || first == "-" {
            sign = first == "-" ? "-" : ""
            body = body.dropFirst()
        }
        let prefixes: [(String, Int)] = [("0x", 16), ("0o", 8), ("0b", 2)]
        for (prefix, radix) in prefixes where body.hasPrefix(prefix) {
            // TOML allows no sign on these.
            guard sign.isEmpty, word.first != "+", let digits = underscoresRemoved(body.dropFirst(2), radix: radix),
                  let value = Int(digits, radix: radix) else { return nil }
            return String(value)
        }
        guard let digits = underscoresRemoved(body, radix: 10) else { return nil }
        // A leading zero is not TOML (it would read as octal elsewhere).
        if digits.count > 1, digits.first == "0" { return nil }
        return sign + digits
    }

    /// A TOML float's text with underscores removed, or nil.
    static func float(_ word: String) -> String? {
        var body = Substring(word)
        var sign = ""
        if let first = body.first, first == "+" || first == "-" {
            sign = String(first == "-" ? "-" : "")
            body = body.dropFirst()
        }
        if body == "inf" || body == "nan" { return sign + body }
        let exponentSplit = body.split(omittingEmptySubsequences: false) { $0 == "e" || $0 == "E" }
        guard exponentSplit.count <= 2, let mantissa = exponentSplit.first else { return nil }
        let parts = mantissa.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = underscoresRemoved(parts[0], radix: 10) else { return nil }
        if whole.count > 1, whole.first == "0" { return nil }
        var text = sign + whole
        if parts.count == 2 {
            guard let fraction = underscoresRemoved(parts[1], radix: 10) else { return nil }
            text += "." + fraction
        }
        if exponentSplit.count == 2 {
            var exponent = Substring(exponentSplit[1])
            var exponentSign = ""
            if let first = exponent.first, first == "+" || first == "-" {
                exponentSign = String(first)
                exponent = exponent.dropFirst()
            }
            guard let digits = underscoresRemoved(exponent, radix: 10) else { return nil }
            text += "e" + exponentSign + digits
        }
        // Neither a fraction nor an exponent: an integer, not a float.
        guard parts.count == 2 || exponentSplit.count == 2 else { return nil }
        return text
    }

    /// Digits of `radix` with single underscores between them, without the underscores.
    private static func underscoresRemoved(_ text: Substring, radix: Int) -> String? {
        guard !text.isEmpty, text.first != "_", text.last != "_", !text.contains("__") else { return nil }
        let digits = text.filter { $0 != "_" }
        guard digits.allSatisfy({ $0.isASCII && $0.hexDigitValue.map { $0 < radix } == true }) else { return nil }
        return String(digits)
    }

    private static func isBareKeyScalar(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "A"..."Z", "a"..."z", "0"..."9", "-", "_": return true
        default: return false
        }
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool { scalar.value < 0x20 || scalar.value == 0x7F }

    private static func describe(_ scalar: Unicode.Scalar) -> String {
        isControl(scalar) ? String(format: "U+%04X", scalar.value) : "\"\(scalar)\""
    }
}
