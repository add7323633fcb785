import CQuernPNG
import Foundation

/// Decodes PNG files through libpng (via the CQuernPNG shim, which keeps
/// libpng's longjmp error path inside C).
///
/// Strict by design — a damaged file is an error, never a partial image:
/// CRC errors in critical and ancillary chunks, libpng's "benign" errors
/// (missing or extra image data, palette indices past the palette), a file
/// cut anywhere before IEND, broken zlib streams and invalid IHDR fields all
/// fail. Ancillary chunks other than tRNS are skipped without parsing (CRC
/// still checked): no colour management is applied, matching Pillow's
/// `convert("RGB")`, which ignores gAMA, cHRM, sRGB and iCCP.
public struct PNGDecoder: Sendable {
    /// The default limit: 100 megapixels (e.g. 10,000 × 10,000), ~400 MB of RGBA.
    public static let defaultMaximumPixels = 100_000_000

    /// The default memory budget of one image: decoded samples, its RGB copy
    /// and everything preprocessing allocates, 1 GiB. A 40-megapixel 16-bit
    /// RGBA photo (the daemon's default `--max-pixels`) needs ~0.45 GB.
    public static let defaultMemoryBudget = 1 << 30

    /// Images with more pixels than this are refused from their IHDR, before
    /// any pixel memory is allocated (decompression-bomb protection).
    public var maximumPixels: Int
    /// Bytes one image may need (`PNGHeader.decodedBytes` here; the
    /// preprocessing adds its share in `ImagePreprocessing.checkMemory`).
    public var memoryBudget: Int

    public init(maximumPixels: Int = PNGDecoder.defaultMaximumPixels,
                memoryBudget: Int = PNGDecoder.defaultMemoryBudget) {
        self.maximumPixels = maximumPixels
        self.memoryBudget = memoryBudget
    }

    /// The checks made from IHDR alone before decoding: the pixel limit and
    /// the memory the decoder would allocate. The shape is free: a 1 × N
    /// strip costs what its pixels cost, since the resize's memory follows its
    /// output (`PillowResize`) and its work the source's pixels; the
    /// preprocessing's share is checked by `ImagePreprocessing.checkMemory`.
    public func check(_ header: PNGHeader) throws(MediaError) {
        try header.checkDecodingLimits(maximumPixels: maximumPixels, memoryBudget: memoryBudget)
    }

    public func decode(contentsOf path: String) throws(MediaError) -> DecodedPNG {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw MediaError(.unrecognized, "cannot read \(path)")
        }
        return try decode(data)
    }

    public func decode(_ data: Data) throws(MediaError) -> DecodedPNG {
        let result: Result<DecodedPNG, MediaError> = data.withUnsafeBytes { raw in
            decode(raw.bindMemory(to: UInt8.self))
        }
        return try result.get()
    }

    public func decode(_ bytes: [UInt8]) throws(MediaError) -> DecodedPNG {
        let result: Result<DecodedPNG, MediaError> = bytes.withUnsafeBufferPointer { decode($0) }
        return try result.get()
    }

    private func decode(_ bytes: UnsafeBufferPointer<UInt8>) -> Result<DecodedPNG, MediaError> {
        if let header = PNGHeader(bytes), header.pixels <= maximumPixels {
            // (Over the pixel limit: the shim refuses it with its own message.)
            do { try check(header) } catch { return .failure(error) }
        }
        var image = quern_png_image()
        // An empty buffer may have no base address; the shim only needs one
        // when size > 0, so any valid pointer will do.
        var anchorByte: UInt8 = 0
        let status = withUnsafePointer(to: &anchorByte) { fallback in
            quern_png_decode(bytes.baseAddress ?? fallback, bytes.count, UInt64(max(0, maximumPixels)), &image)
        }
        let message = cCharArrayString(&image.message)
        if status != QUERN_PNG_OK { quern_png_release(&image) }
        switch status {
        case QUERN_PNG_OK:
            break
        case QUERN_PNG_UNRECOGNIZED:
            return .failure(MediaError(.unrecognized, message))
        case QUERN_PNG_TOO_LARGE:
            return .failure(MediaError(.tooLarge, message))
        case QUERN_PNG_EMPTY:
            return .failure(MediaError(.empty, message))
        case QUERN_PNG_OUT_OF_MEMORY:
            return .failure(MediaError(.tooLarge, "not enough memory to decode: \(message)"))
        default:
            return .failure(MediaError(.corrupt, "broken PNG: \(message)"))
        }
        let header = image.header
        // From here the pixel buffer belongs to `pixels`, which frees it.
        guard let base = image.pixels else {
            return .failure(MediaError(.corrupt, "broken PNG: libpng returned no pixels"))
        }
        let pixels = DecodedPixels(base: base, count: image.pixel_bytes) { free($0) }
        guard let colorType = PNGColorType(rawValue: Int(header.color_type)),
              header.width > 0, header.height > 0,
              (1...4).contains(image.channels), image.bytes_per_sample == 1 || image.bytes_per_sample == 2
        else {
            return .failure(MediaError(.corrupt, "broken PNG: libpng returned an unexpected pixel layout"))
        }
        let expectedBytes = Int(header.width) * Int(header.height) * Int(image.channels) * Int(image.bytes_per_sample)
        guard image.pixel_bytes == expectedBytes else {
            return .failure(MediaError(.corrupt, "broken PNG: pixel buffer size does not match the header"))
        }
        let warnings = cCharArrayString(&image.warnings)
        return .success(DecodedPNG(
            width: Int(header.width), height: Int(header.height),
            colorType: colorType, bitDepth: Int(header.bit_depth),
            interlaced: header.interlaced != 0,
            hasTransparencyChunk: header.has_transparency_chunk != 0,
            paletteEntries: Int(header.palette_entries),
            channels: Int(image.channels), bytesPerSample: Int(image.bytes_per_sample),
            warnings: warnings.isEmpty ? [] : warnings.components(separatedBy: "; "), storage: pixels))
    }
}
