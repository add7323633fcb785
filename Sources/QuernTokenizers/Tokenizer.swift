/// Text ↔ token ids, as a model's own tokenizer defines them.
public protocol Tokenizer: Sendable {
    /// Token ids of `text`. Special tokens written in the text (such as
    /// `<|im_start|>` or `[CLS]`) are recognised when `parseSpecial` is true.
    func encode(_ text: String, parseSpecial: Bool) -> [Int]

    /// The text of `ids`. Byte-level tokenizers may end inside a multi-byte
    /// character; `decode` replaces incomplete sequences with U+FFFD, and
    /// `StreamingDecoder` holds them back instead.
    func decode(_ ids: [Int]) -> String

    var vocabularySize: Int { get }
}

/// Why a tokenizer could not be built from a model's files.
public struct TokenizerError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: String, Sendable {
        case missingField = "tokenizer.missing_field"
        case invalidValue = "tokenizer.invalid_value"
        case unsupported = "tokenizer.unsupported"
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var code: String { kind.rawValue }
    public var description: String { message }
}
