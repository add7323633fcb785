/// Why an image or audio file could not be decoded. Media files are hostile
/// input: a decoder never crashes on them and never hands back a partly
/// decoded picture or signal as if it were whole. Pipelines map these onto
/// result error codes (`input.corrupt`, `input.too_large`, …) by `kind`.
public struct MediaError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// Not the format claimed (wrong signature, not audio at all).
        case unrecognized = "media.unrecognized"
        /// The format is right but the data is broken: CRC, zlib, truncation.
        case corrupt = "media.corrupt"
        /// Over a configured limit (pixels, seconds) — checked before allocating.
        case tooLarge = "media.too_large"
        /// A valid file using a feature Quern does not decode.
        case unsupported = "media.unsupported"
        /// Nothing to decode: zero bytes, zero frames, zero pixels.
        case empty = "media.empty"
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// The stable machine code, e.g. `media.corrupt`.
    public var code: String { kind.rawValue }
    public var description: String { "\(code): \(message)" }
}
