/// A PNG's IHDR, read from the file's first bytes without libpng: enough to
/// judge what decoding and preprocessing the image will cost before a byte
/// of pixel data is inflated or any pixel memory allocated.
public struct PNGHeader: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// 1, 2, 4, 8 or 16.
    public let bitDepth: Int
    public let colorType: PNGColorType
    public let interlaced: Bool

    public init(width: Int, height: Int, bitDepth: Int, colorType: PNGColorType, interlaced: Bool = false) {
        self.width = width
        self.height = height
        self.bitDepth = bitDepth
        self.colorType = colorType
        self.interlaced = interlaced
    }

    /// The header of `bytes`, or nil when they do not open with the PNG
    /// signature and an IHDR of a known colour type and a non-zero size (the
    /// decoder then reports what is wrong). The CRC is not checked here.
    public init?(_ bytes: UnsafeBufferPointer<UInt8>) {
        let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        guard bytes.count >= 33, bytes.prefix(8).elementsEqual(signature),
              bytes[8] == 0, bytes[9] == 0, bytes[10] == 0, bytes[11] == 13,
              bytes[12...15].elementsEqual("IHDR".utf8) else { return nil }
        func u32(_ offset: Int) -> Int {
            Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
        }
        let width = u32(16), height = u32(20)
        guard width > 0, height > 0, width <= Int(Int32.max), height <= Int(Int32.max),
              let colorType = PNGColorType(rawValue: Int(bytes[25])) else { return nil }
        self.init(width: width, height: height, bitDepth: Int(bytes[24]), colorType: colorType, interlaced: bytes[28] == 1)
    }

    public init?(_ bytes: [UInt8]) {
        guard let header = bytes.withUnsafeBufferPointer({ PNGHeader($0) }) else { return nil }
        self = header
    }

    /// width × height (below 2^62: each side is under 2^31).
    public var pixels: Int { width * height }

    /// Bytes the decoder holds at its peak: the samples after expansion
    /// (palette to RGBA when tRNS may be present, gray below 8 bits to 8),
    /// plus one index per pixel while a palette image is expanded.
    public var decodedBytes: Int {
        let sampleBytes = bitDepth == 16 ? 2 : 1
        let perPixel: Int
        switch colorType {
        case .gray: perPixel = sampleBytes
        case .grayAlpha: perPixel = 2 * sampleBytes
        case .rgb: perPixel = 3 * sampleBytes
        case .rgba: perPixel = 4 * sampleBytes
        case .palette: perPixel = 4 + 1
        }
        return Self.saturating(pixels, perPixel)
    }

    /// Bytes of the 8-bit RGB copy `convertedToRGB` makes: none for 8-bit
    /// RGB, whose decoded buffer is used in place.
    public var rgbBytes: Int { colorType == .rgb && bitDepth == 8 ? 0 : Self.saturating(pixels, 3) }

    static func saturating(_ a: Int, _ b: Int) -> Int {
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? Int.max : product
    }
}
