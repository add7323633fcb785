/// Walks a JPEG's markers from SOI to the first SOS without decoding a
/// block: every segment's length against the bytes that remain, exactly one
/// frame header with a non-zero size, 8-bit samples and 1, 3 or 4
/// components. It also reads what decoding needs beside the pixels — the
/// EXIF orientation and the Adobe transform — and checks the pixel count
/// against a limit, so a decompression bomb (a few bytes declaring
/// 65,000 × 65,000 pixels) is refused before any decoder allocates for it.
public enum JPEGProbe {
    /// SOI followed by the first marker's 0xFF: what `file` and browsers sniff.
    public static let signature: [UInt8] = [0xFF, 0xD8, 0xFF]

    public static func matches(_ bytes: [UInt8]) -> Bool { bytes.hasPrefix(signature) }

    public static func matches(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        bytes.count >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF
    }

    /// The header of a well-formed JPEG, `.corrupt` naming the first fault,
    /// or `.unsupported` for a valid file Quern does not decode.
    public static func inspect(_ bytes: [UInt8]) throws(MediaError) -> JPEGHeader {
        guard !bytes.isEmpty else { throw MediaError(.empty, "the file is empty") }
        guard bytes.count >= 2, bytes[0] == 0xFF, bytes[1] == 0xD8 else {
            throw MediaError(.unrecognized, "the JPEG start-of-image marker (FF D8) is missing")
        }
        var offset = 2
        var frame: (width: Int, height: Int, components: Int, precision: Int, marker: UInt8)?
        var adobeTransform: Int?
        var exifOrientation: Int?
        var sawExif = false
        var xmpOrientation: Int?
        while true {
            guard offset < bytes.count else { throw corrupt("truncated: the file ends at byte \(bytes.count) before the image data") }
            guard bytes[offset] == 0xFF else {
                throw corrupt("expected a marker at byte \(offset), found 0x\(hex(bytes[offset]))")
            }
            // Any number of 0xFF fill bytes may precede a marker code.
            while offset < bytes.count, bytes[offset] == 0xFF { offset += 1 }
            guard offset < bytes.count else { throw corrupt("truncated: the file ends at byte \(bytes.count) inside a marker") }
            let marker = bytes[offset]
            offset += 1
            switch marker {
            case 0x01, 0xD0...0xD7:
                continue  // standalone markers (TEM, RSTn): no length
            case 0xD8:
                throw corrupt("a second start-of-image marker at byte \(offset - 2)")
            case 0xD9:
                throw corrupt("the file ends (EOI at byte \(offset - 2)) before any image data")
            default:
                break
            }
            guard offset + 2 <= bytes.count else { throw corrupt("truncated: the file ends inside the marker 0x\(hex(marker))'s length") }
            let length = Int(bytes[offset]) << 8 | Int(bytes[offset + 1])
            guard length >= 2 else { throw corrupt("marker 0x\(hex(marker)) at byte \(offset - 2) declares an impossible length \(length)") }
            guard offset + length <= bytes.count else {
                throw corrupt("truncated: marker 0x\(hex(marker)) at byte \(offset - 2) declares \(length) bytes but only \(bytes.count - offset) remain")
            }
            let payload = bytes[(offset + 2)..<(offset + length)]
            switch marker {
            case 0xC0...0xCF where marker != 0xC4 && marker != 0xC8 && marker != 0xCC:
                guard frame == nil else { throw corrupt("a second frame header (SOF) at byte \(offset - 2)") }
                guard payload.count >= 6 else { throw corrupt("the frame header is \(payload.count) bytes, too short") }
                let base = payload.startIndex
                let precision = Int(payload[base])
                let height = Int(payload[base + 1]) << 8 | Int(payload[base + 2])
                let width = Int(payload[base + 3]) << 8 | Int(payload[base + 4])
                let components = Int(payload[base + 5])
                guard payload.count >= 6 + 3 * components else {
                    throw corrupt("the frame header declares \(components) components but is only \(payload.count) bytes")
                }
                frame = (width, height, components, precision, marker)
            case 0xE1:
                if payload.starts(with: Array("Exif\0\0".utf8)) {
                    // Pillow reads the first Exif segment's IFD0 (later ones only extend it).
                    if !sawExif { exifOrientation = ExifOrientationReader.orientation(tiff: payload.dropFirst(6)) }
                    sawExif = true
                } else if payload.starts(with: Array("http://ns.adobe.com/xap/1.0/\0".utf8)) {
                    // Pillow keeps the last XMP packet.
                    xmpOrientation = ExifOrientationReader.orientation(xmp: payload.dropFirst(29))
                }
            case 0xEE:
                // libjpeg's test: at least 12 bytes starting "Adobe"; the transform is byte 11.
                if payload.count >= 12, payload.starts(with: Array("Adobe".utf8)) {
                    adobeTransform = Int(payload[payload.startIndex + 11])
                }
            case 0xDA:
                guard let frame else { throw corrupt("image data (SOS) before any frame header (SOF)") }
                return try header(frame, adobeTransform: adobeTransform, orientation: exifOrientation ?? xmpOrientation)
            default:
                break
            }
            offset += length
        }
    }

    /// The frame header's size, components and process when the SOF segment
    /// lies wholly inside `prefix` (a file's first bytes), else nil. For
    /// estimates before a file is read: nothing else is checked, and the
    /// orientation is not known (`orientationTag` is nil).
    public static func frameHeader(inPrefix prefix: [UInt8]) -> JPEGHeader? {
        guard matches(prefix) else { return nil }
        var offset = 2
        while offset + 4 <= prefix.count {
            guard prefix[offset] == 0xFF else { return nil }
            let marker = prefix[offset + 1]
            if marker == 0xFF { offset += 1; continue }
            if marker == 0x01 || (0xD0...0xD7).contains(marker) { offset += 2; continue }
            let length = Int(prefix[offset + 2]) << 8 | Int(prefix[offset + 3])
            guard length >= 2, marker != 0xDA, marker != 0xD9 else { return nil }
            if (0xC0...0xCF).contains(marker), marker != 0xC4, marker != 0xC8, marker != 0xCC {
                guard offset + 2 + length <= prefix.count, length >= 8 else { return nil }
                let height = Int(prefix[offset + 5]) << 8 | Int(prefix[offset + 6])
                let width = Int(prefix[offset + 7]) << 8 | Int(prefix[offset + 8])
                let components = Int(prefix[offset + 9])
                guard width > 0, height > 0, components > 0 else { return nil }
                return JPEGHeader(width: width, height: height, components: components, precision: Int(prefix[offset + 4]),
                                  progressive: [0xC2, 0xC6, 0xCA, 0xCE].contains(marker), arithmetic: marker >= 0xC9)
            }
            offset += 2 + length
        }
        return nil
    }

    /// `inspect`, and `.tooLarge` when the image has more than `maximumPixels` pixels.
    public static func inspect(_ bytes: [UInt8], maximumPixels: Int) throws(MediaError) -> JPEGHeader {
        let header = try inspect(bytes)
        guard header.pixels <= maximumPixels else {
            throw MediaError(.tooLarge, "the image is \(header.width)×\(header.height) pixels, more than the limit of \(maximumPixels)")
        }
        return header
    }

    private static func header(_ frame: (width: Int, height: Int, components: Int, precision: Int, marker: UInt8),
                               adobeTransform: Int?, orientation: Int?) throws(MediaError) -> JPEGHeader {
        guard frame.width > 0, frame.height > 0 else {
            throw corrupt("the frame header declares an empty \(frame.width)×\(frame.height) image")
        }
        // SOF3, 7, 11, 15: the lossless process, which libjpeg-turbo 2.1 (and Pillow) cannot decode.
        guard ![0xC3, 0xC7, 0xCB, 0xCF].contains(frame.marker) else {
            throw MediaError(.unsupported, "lossless JPEG (SOF\(frame.marker - 0xC0)) is not supported")
        }
        guard frame.precision == 8 else {
            throw MediaError(.unsupported, "\(frame.precision)-bit JPEG samples are not supported (only 8-bit)")
        }
        guard [1, 3, 4].contains(frame.components) else {
            throw MediaError(.unsupported, "\(frame.components)-component JPEG images are not supported (only 1, 3 or 4: gray, colour, CMYK)")
        }
        let progressive = [0xC2, 0xC6, 0xCA, 0xCE].contains(frame.marker)
        return JPEGHeader(width: frame.width, height: frame.height, components: frame.components, precision: frame.precision,
                          progressive: progressive, arithmetic: frame.marker >= 0xC9, adobeTransform: adobeTransform,
                          orientationTag: orientation)
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
    }

    private static func corrupt(_ detail: String) -> MediaError {
        MediaError(.corrupt, "not a valid JPEG: \(detail)")
    }
}
