/// Why some bytes are not valid JSON, and where: a stable code for programs,
/// a reason for people, and the position as a 1-based line and column
/// (the column counts bytes, as most editors' byte-column display does)
/// plus the 0-based byte offset.
public struct JSONSyntaxError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Stable machine codes: never renamed or reused.
    public enum Code: String, Sendable, CaseIterable {
        /// The document ends inside a value (or is empty).
        case unexpectedEnd = "json.unexpected_end"
        /// A byte that cannot start a value, or a missing `:`, `,` or bracket.
        case unexpectedCharacter = "json.unexpected_character"
        /// `tru`, `nul`, `falsy`…
        case invalidLiteral = "json.invalid_literal"
        /// `01`, `1.`, `-`, `1e`…
        case invalidNumber = "json.invalid_number"
        /// An unterminated string, a raw control character, or bytes that are not UTF-8.
        case invalidString = "json.invalid_string"
        /// An unknown escape, a malformed `\u` escape or an unpaired surrogate.
        case invalidEscape = "json.invalid_escape"
        /// A key that appears twice in one object: which value wins would be a guess.
        case duplicateKey = "json.duplicate_key"
        /// Containers nested deeper than `JSONParser.maximumDepth`.
        case tooDeep = "json.too_deep"
        /// Something other than whitespace after the document.
        case trailingData = "json.trailing_data"
    }

    public let code: Code
    public let reason: String
    public let line: Int
    public let column: Int
    public let offset: Int

    public init(code: Code, reason: String, line: Int, column: Int, offset: Int) {
        self.code = code
        self.reason = reason
        self.line = line
        self.column = column
        self.offset = offset
    }

    public var description: String { "\(reason) at line \(line), column \(column)" }
}
