/// 8-bit RGB pixels, interleaved, rows packed: the form every image model's
/// preprocessing starts from (Pillow's mode "RGB").
public struct RGBImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// Where the bytes live: a Swift array, or an 8-bit RGB PNG's decoded
    /// buffer used as is (no copy of a multi-megabyte photo).
    private enum Storage: Sendable {
        case array([UInt8])
        case decoded(DecodedPixels)
    }
    private let storage: Storage

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width > 0 && height > 0 && pixels.count == width * height * 3,
                     "RGBImage needs width × height × 3 bytes")
        self.width = width
        self.height = height
        self.storage = .array(pixels)
    }

    init(width: Int, height: Int, decoded: DecodedPixels) {
        precondition(width > 0 && height > 0 && decoded.count == width * height * 3,
                     "RGBImage needs width × height × 3 bytes")
        self.width = width
        self.height = height
        self.storage = .decoded(decoded)
    }

    /// `height × width × 3` bytes, R G B per pixel.
    public func withPixels<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        switch storage {
        case let .array(pixels): return try pixels.withUnsafeBufferPointer(body)
        case let .decoded(buffer): return try body(UnsafeBufferPointer(start: buffer.base, count: buffer.count))
        }
    }

    /// A copy of the pixels.
    public var pixels: [UInt8] { withPixels { Array($0) } }

    public static func == (a: RGBImage, b: RGBImage) -> Bool {
        a.width == b.width && a.height == b.height && a.withPixels { left in b.withPixels { right in left.elementsEqual(right) } }
    }
}
