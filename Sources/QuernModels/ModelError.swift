import QuernFormats

/// Why a model cannot be loaded (a config it cannot use, an architecture
/// it does not implement, a file that fails its checks) or cannot run an
/// input (one the caller controls). Codes are stable.
public struct ModelError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: String, Sendable {
        case contextFull = "model.context_full"
        case tokenOutOfRange = "model.token_out_of_range"
        case invalidConfig = "model.invalid_config"
        case unsupportedArchitecture = "model.unsupported_architecture"
        case invalidInput = "model.invalid_input"
        /// A model file failed its format checks; the message starts with the format error's code.
        case invalidModelFile = "model.invalid_file"
        /// The tokenizer has ids the model's embedding has no row for.
        case vocabularyMismatch = "model.vocabulary_mismatch"
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

extension ModelError {
    /// Wraps a format error met while loading a model, keeping its code at
    /// the start of the message (`format.truncated: file: …`).
    public init(_ error: FormatError) {
        self.init(.invalidModelFile, "\(error.code): \(error.description)")
    }
}
