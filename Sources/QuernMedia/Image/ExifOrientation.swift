/// The EXIF Orientation tag (0x0112): how the stored pixels must be turned
/// to show the picture upright. Applied as Pillow's `ImageOps.exif_transpose`
/// applies it (the same `Image.Transpose` per value); values outside 1…8
/// leave the image as stored, as they do in Pillow.
public enum ExifOrientation: Int, Sendable, Equatable, CaseIterable {
    case upright = 1
    case mirrored = 2            // FLIP_LEFT_RIGHT
    case upsideDown = 3          // ROTATE_180
    case mirroredUpsideDown = 4  // FLIP_TOP_BOTTOM
    case transposed = 5          // TRANSPOSE
    case rotatedLeft = 6         // ROTATE_270: the stored picture is turned 90° clockwise to show it
    case transversed = 7         // TRANSVERSE
    case rotatedRight = 8        // ROTATE_90: turned 90° counter-clockwise

    /// Whether applying it swaps width and height.
    public var swapsSides: Bool { rawValue >= 5 }

    /// Pillow's name for the transposition applied, for the result's steps.
    public var transposeName: String? {
        switch self {
        case .upright: nil
        case .mirrored: "FLIP_LEFT_RIGHT"
        case .upsideDown: "ROTATE_180"
        case .mirroredUpsideDown: "FLIP_TOP_BOTTOM"
        case .transposed: "TRANSPOSE"
        case .rotatedLeft: "ROTATE_270"
        case .transversed: "TRANSVERSE"
        case .rotatedRight: "ROTATE_90"
        }
    }

    /// The stored pixel shown at (`x`, `y`) of the turned image, for a stored
    /// image of `width` × `height`.
    @inline(__always)
    func source(x: Int, y: Int, width: Int, height: Int) -> (x: Int, y: Int) {
        switch self {
        case .upright: (x, y)
        case .mirrored: (width - 1 - x, y)
        case .upsideDown: (width - 1 - x, height - 1 - y)
        case .mirroredUpsideDown: (x, height - 1 - y)
        case .transposed: (y, x)
        case .rotatedLeft: (y, height - 1 - x)
        case .transversed: (width - 1 - y, height - 1 - x)
        case .rotatedRight: (width - 1 - y, x)
        }
    }
}

/// Reads the Orientation tag from an APP1 Exif payload (the TIFF structure
/// after "Exif\0\0"): the TIFF header in either byte order, then IFD0's
/// entries, every offset checked against the payload. A payload too damaged
/// to read, or without the tag, gives nil — the picture is shown as stored.
enum ExifOrientationReader {
    static let tag: UInt16 = 0x0112

    /// `tiff`: the bytes after "Exif\0\0".
    static func orientation(tiff: ArraySlice<UInt8>) -> Int? {
        let bytes = Array(tiff)
        guard bytes.count >= 8 else { return nil }
        let bigEndian: Bool
        switch (bytes[0], bytes[1]) {
        case (0x4D, 0x4D): bigEndian = true   // "MM"
        case (0x49, 0x49): bigEndian = false  // "II"
        default: return nil
        }
        func u16(_ offset: Int) -> Int? {
            guard offset >= 0, offset + 2 <= bytes.count else { return nil }
            return Int(bytes.unsignedInteger(at: offset, width: 2, bigEndian: bigEndian))
        }
        func u32(_ offset: Int) -> Int? {
            guard offset >= 0, offset + 4 <= bytes.count else { return nil }
            return Int(bytes.unsignedInteger(at: offset, width: 4, bigEndian: bigEndian))
        }
        guard u16(2) == 42, let ifd = u32(4), let entries = u16(ifd) else { return nil }
        for entry in 0..<entries {
            let at = ifd + 2 + entry * 12
            guard let tag = u16(at), let type = u16(at + 2), let count = u32(at + 4) else { return nil }
            guard tag == Int(Self.tag), count >= 1 else { continue }
            // The value sits in the entry itself (it fits in four bytes).
            switch type {
            case 3: return u16(at + 8)   // SHORT, as the standard says
            case 4: return u32(at + 8)   // LONG, written by some tools; Pillow reads it too
            case 1: return at + 8 < bytes.count ? Int(bytes[at + 8]) : nil  // BYTE
            default: return nil
            }
        }
        return nil
    }

    /// Pillow's fallback when EXIF has no orientation: the first
    /// `tiff:Orientation="N"` or `<tiff:Orientation>N` in the XMP packet.
    static func orientation(xmp: ArraySlice<UInt8>) -> Int? {
        let key = Array("tiff:Orientation".utf8)
        let bytes = Array(xmp)
        var start = 0
        while start + key.count + 1 < bytes.count {
            guard let found = firstIndex(of: key, in: bytes, from: start) else { return nil }
            let after = found + key.count
            if after + 1 < bytes.count {
                if bytes[after] == UInt8(ascii: "="), bytes[after + 1] == UInt8(ascii: "\""),
                   after + 2 < bytes.count, let digit = digit(bytes[after + 2]) {
                    return digit
                }
                if bytes[after] == UInt8(ascii: ">"), let digit = digit(bytes[after + 1]) { return digit }
            }
            start = found + 1
        }
        return nil
    }

    private static func digit(_ byte: UInt8) -> Int? {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) ? Int(byte - UInt8(ascii: "0")) : nil
    }

    private static func firstIndex(of needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
        for index in start...(haystack.count - needle.count) where haystack[index] == needle[0] {
            if haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
        }
        return nil
    }
}
