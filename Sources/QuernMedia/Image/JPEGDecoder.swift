import CQuernJPEG
import Foundation

/// Decodes JPEG files through libjpeg-turbo (via the CQuernJPEG shim, which
/// keeps libjpeg's longjmp error path inside C), with the settings Pillow
/// decodes with: ISLOW integer IDCT, fancy upsampling, libjpeg's colour
/// space from the JFIF/Adobe markers. `DecodedJPEG.convertedToRGB()` then
/// turns the samples into what `ImageOps.exif_transpose(Image.open(f))
/// .convert("RGB")` gives.
///
/// Strict by design — a damaged file is an error, never a partial image:
/// a file cut before its last scanline, bad Huffman codes, stray bytes
/// before a marker, missing restart markers and broken progressions fail
/// (libjpeg only warns about them and hands back grey blocks). A file must
/// end with EOI: one cut right after its last scanline is refused, as
/// Pillow refuses it.
public struct JPEGDecoder: Sendable {
    /// Images with more pixels than this are refused from their frame
    /// header, before any pixel memory is allocated (decompression-bomb protection).
    public var maximumPixels: Int
    /// Bytes one image may need (`JPEGHeader.decodedBytes` here; the
    /// preprocessing adds its share in `ImagePreprocessing.checkMemory`).
    public var memoryBudget: Int

    public init(maximumPixels: Int = PNGDecoder.defaultMaximumPixels,
                memoryBudget: Int = PNGDecoder.defaultMemoryBudget) {
        self.maximumPixels = maximumPixels
        self.memoryBudget = memoryBudget
    }

    /// The checks made from the frame header alone before decoding.
    public func check(_ header: JPEGHeader) throws(MediaError) {
        try header.checkDecodingLimits(maximumPixels: maximumPixels, memoryBudget: memoryBudget)
    }

    public func decode(contentsOf path: String) throws(MediaError) -> DecodedJPEG {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw MediaError(.unrecognized, "cannot read \(path)")
        }
        return try decode([UInt8](data))
    }

    public func decode(_ data: Data) throws(MediaError) -> DecodedJPEG {
        try decode([UInt8](data))
    }

    public func decode(_ bytes: [UInt8]) throws(MediaError) -> DecodedJPEG {
        // The markers first: a bomb or a broken header is refused before
        // libjpeg allocates anything, and the orientation is read here.
        let header = try JPEGProbe.inspect(bytes)
        try check(header)
        let result: Result<DecodedJPEG, MediaError> = bytes.withUnsafeBufferPointer { decode($0, header: header) }
        return try result.get()
    }

    private func decode(_ bytes: UnsafeBufferPointer<UInt8>, header: JPEGHeader) -> Result<DecodedJPEG, MediaError> {
        guard let base = bytes.baseAddress else { return .failure(MediaError(.empty, "the file is empty")) }
        var image = quern_jpeg_image()
        let status = quern_jpeg_decode(base, bytes.count, UInt64(max(0, maximumPixels)), &image)
        let message = cCharArrayString(&image.message)
        if status != QUERN_JPEG_OK { quern_jpeg_release(&image) }
        switch status {
        case QUERN_JPEG_OK:
            break
        case QUERN_JPEG_UNRECOGNIZED:
            return .failure(MediaError(.unrecognized, message))
        case QUERN_JPEG_TOO_LARGE:
            return .failure(MediaError(.tooLarge, message))
        case QUERN_JPEG_EMPTY:
            return .failure(MediaError(.empty, message))
        case QUERN_JPEG_OUT_OF_MEMORY:
            return .failure(MediaError(.tooLarge, "not enough memory to decode: \(message)"))
        case QUERN_JPEG_UNSUPPORTED:
            return .failure(MediaError(.unsupported, message))
        default:
            return .failure(MediaError(.corrupt, "broken JPEG: \(message)"))
        }
        // From here the pixel buffer belongs to `pixels`, which frees it.
        guard let pixelBase = image.pixels else {
            return .failure(MediaError(.corrupt, "broken JPEG: libjpeg returned no pixels"))
        }
        let pixels = DecodedPixels(base: pixelBase, count: image.pixel_bytes) { free($0) }
        let width = Int(image.header.width), height = Int(image.header.height), channels = Int(image.channels)
        // libjpeg read the same frame header the probe did; anything else means the two disagree about the file.
        guard width == header.width, height == header.height, channels == header.components,
              image.pixel_bytes == width * height * channels else {
            return .failure(MediaError(.corrupt, "broken JPEG: libjpeg's image (\(width)×\(height), \(channels) channels) does not match the frame header"))
        }
        let colorSpace = JPEGColorSpace(libjpegCode: Int(image.header.jpeg_color_space))
        let warnings = cCharArrayString(&image.warnings)
        return .success(DecodedJPEG(header: header, colorSpace: colorSpace, channels: channels,
                                    warnings: warnings.isEmpty ? [] : warnings.components(separatedBy: "; "), storage: pixels))
    }
}

/// The colour space libjpeg found the file's samples in (J_COLOR_SPACE).
public enum JPEGColorSpace: String, Sendable, Equatable {
    case gray, rgb, ycbcr, cmyk, ycck, unknown

    init(libjpegCode: Int) {
        switch libjpegCode {
        case 1: self = .gray
        case 2: self = .rgb
        case 3: self = .ycbcr
        case 4: self = .cmyk
        case 5: self = .ycck
        default: self = .unknown
        }
    }
}
