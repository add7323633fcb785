/// A whole decoded PNG: what the file declared, and its samples after
/// libpng's lossless expansions (palette → RGB or RGBA, gray below 8 bits
/// scaled to 8 bits). 16-bit samples are kept as 16 bits, because Pillow
/// reduces them differently per colour type (see `PillowRGBConversion`).
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
    /// Channels of `samples`: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA.
    public let channels: Int
    /// 1, or 2 for 16-bit files (big-endian pairs, as in the file).
    public let bytesPerSample: Int
    /// `height` rows of `width × channels × bytesPerSample` bytes.
    public let samples: [UInt8]
    /// libpng's warnings about the file (the image still decoded whole).
    public let warnings: [String]

    /// Transparency of any kind: an alpha channel or a tRNS chunk.
    public var hasTransparency: Bool { colorType.hasAlphaChannel || hasTransparencyChunk }
}
