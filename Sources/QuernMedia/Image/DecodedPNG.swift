/// A whole decoded PNG: what the file declared, and its samples after
/// lossless expansion (palette → RGB or RGBA, gray below 8 bits scaled to
/// 8 bits). 16-bit samples are kept as 16 bits, because Pillow reduces them
/// differently per colour type (see `PillowRGBConversion`).
public struct DecodedPNG: Sendable {
    public let width: Int
    public let height: Int
    public let colorType: PNGColorType
    /// The file's bit depth: 1, 2, 4, 8 or 16.
    public let bitDepth: Int
    public let interlaced: Bool
    /// A tRNS chunk was present (transparency by colour key or palette alpha).
    public let hasTransparencyChunk: Bool
    /// PLTE entries for palette images, else 0.
    public let paletteEntries: Int
    /// Channels of the samples: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA.
    public let channels: Int
    /// 1, or 2 for 16-bit files (big-endian pairs, as in the file).
    public let bytesPerSample: Int
    /// libpng's warnings about the file (the image still decoded whole).
    public let warnings: [String]
    /// The decoder's buffer, kept as is (no copy into an array).
    let storage: DecodedPixels

    /// `height` rows of `width × channels × bytesPerSample` bytes.
    public func withSamples<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.base, count: storage.count))
    }

    /// A copy of the samples.
    public var samples: [UInt8] { withSamples { Array($0) } }

    /// Transparency of any kind: an alpha channel or a tRNS chunk.
    public var hasTransparency: Bool { colorType.hasAlphaChannel || hasTransparencyChunk }
}

/// Memory the C decoder allocated with malloc, freed with the last reference.
/// Never written after decoding, so sharing it between threads is safe.
final class DecodedPixels: @unchecked Sendable {
    let base: UnsafeMutablePointer<UInt8>
    let count: Int
    private let release: (UnsafeMutablePointer<UInt8>) -> Void

    init(base: UnsafeMutablePointer<UInt8>, count: Int, release: @escaping (UnsafeMutablePointer<UInt8>) -> Void) {
        self.base = base
        self.count = count
        self.release = release
    }

    deinit { release(base) }
}
