import QuernTensor

/// Why a checkpoint file could not be read. Model files are hostile input:
/// every count, length, offset and shape is checked before it is used, and
/// the error names the file, the item and what was wrong.
public struct FormatError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: String, Sendable {
        case badMagic = "format.bad_magic"
        case unsupportedVersion = "format.unsupported_version"
        case truncated = "format.truncated"
        case invalidValue = "format.invalid_value"
        case unsupportedType = "format.unsupported_type"
        case missingTensor = "format.missing_tensor"
        case unusedTensor = "format.unused_tensor"
        case shapeMismatch = "format.shape_mismatch"
        case io = "format.io"
    }

    public let kind: Kind
    public let file: String
    public let message: String

    public init(_ kind: Kind, file: String, _ message: String) {
        self.kind = kind
        self.file = file
        self.message = message
    }

    /// The stable machine code, e.g. `format.truncated`.
    public var code: String { kind.rawValue }
    public var description: String { "\(file): \(message)" }

    /// Wraps a tensor-core error raised while reading `file`.
    public init(_ error: TensorError, file: String) {
        switch error {
        case .io(_, let reason): self.init(.io, file: file, reason)
        case .byteCountMismatch: self.init(.truncated, file: file, error.description)
        default: self.init(.invalidValue, file: file, error.description)
        }
    }
}
