/// What a JPEG's markers declare before its entropy-coded data: the frame
/// header (SOFn), the Adobe APP14 transform and the EXIF orientation. Read by
/// `JPEGProbe` without libjpeg, so the cost of decoding is known before any
/// pixel memory is allocated.
public struct JPEGHeader: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// Components in the frame: 1 (gray), 3 (YCbCr or RGB) or 4 (CMYK or YCCK).
    public let components: Int
    /// Sample precision in bits (8 is the only one decoded).
    public let precision: Int
    /// A progressive frame (SOF2, SOF6, SOF10, SOF14).
    public let progressive: Bool
    /// Arithmetic rather than Huffman entropy coding (SOF9…SOF15).
    public let arithmetic: Bool
    /// The Adobe APP14 marker's transform code (0 none/CMYK, 1 YCbCr, 2 YCCK), nil without one.
    public let adobeTransform: Int?
    /// The EXIF Orientation (or XMP tiff:Orientation) value as written, nil without one.
    public let orientationTag: Int?

    public init(width: Int, height: Int, components: Int, precision: Int = 8, progressive: Bool = false,
                arithmetic: Bool = false, adobeTransform: Int? = nil, orientationTag: Int? = nil) {
        self.width = width
        self.height = height
        self.components = components
        self.precision = precision
        self.progressive = progressive
        self.arithmetic = arithmetic
        self.adobeTransform = adobeTransform
        self.orientationTag = orientationTag
    }

    /// The turn Pillow's `exif_transpose` applies (values outside 1…8: none).
    public var orientation: ExifOrientation { orientationTag.flatMap(ExifOrientation.init(rawValue:)) ?? .upright }

    /// The header of the picture as shown: width and height swapped when the
    /// orientation turns it a quarter (what the preprocessing resizes, and
    /// so what its memory check must see).
    public var upright: JPEGHeader {
        guard orientation.swapsSides else { return self }
        return JPEGHeader(width: height, height: width, components: components, precision: precision, progressive: progressive,
                          arithmetic: arithmetic, adobeTransform: adobeTransform, orientationTag: orientationTag)
    }

    /// width × height (each side is below 2^16).
    public var pixels: Int { width * height }

    /// The stable colour name used in results: `gray`, `rgb` or `cmyk`.
    public var colorName: String {
        switch components {
        case 1: "gray"
        case 4: "cmyk"
        default: "rgb"
        }
    }
}

extension JPEGHeader: ImageHeaderCost {
    /// libjpeg's output buffer (one byte per component per pixel) and, for a
    /// progressive file, its whole-image coefficient buffer (two bytes per
    /// coefficient, counted as if no component were subsampled).
    public var decodedBytes: Int {
        let output = PNGHeader.saturating(pixels, components)
        let coefficients = progressive ? PNGHeader.saturating(pixels, components * 2) : 0
        let (total, overflow) = output.addingReportingOverflow(coefficients)
        return overflow ? Int.max : total
    }

    /// The RGB copy made when converting or turning: none for an upright
    /// 3-component image, whose decoded buffer is used in place.
    public var rgbBytes: Int {
        components == 3 && orientation == .upright ? 0 : PNGHeader.saturating(pixels, 3)
    }

    public var costDescription: String {
        "\(progressive ? "progressive" : "baseline") \(colorName) JPEG"
    }
}
