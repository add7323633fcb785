import QuernMedia

/// What the header of a well-formed PNG says.
public struct PNGInfo: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var bitDepth: Int
    public var colorType: Int
}

/// Checks a PNG's structure without inflating a byte of pixel data: the
/// signature, every chunk's length against the bytes that remain and its CRC,
/// IHDR first with sane values, at least one IDAT, IEND last. The pixel count
/// is checked against the limit here, so a decompression bomb (a tiny file
/// declaring a huge image) is refused before any decoder allocates for it.
public enum PNGProbe {
    public static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    public static func matches(_ bytes: [UInt8]) -> Bool { bytes.hasPrefix(signature) }

    public static func inspect(_ bytes: [UInt8], maxPixels: Int) throws(QuernError) -> PNGInfo {
        guard matches(bytes) else { throw corrupt("the PNG signature is missing") }
        var offset = signature.count
        var header: PNGInfo?
        var sawImageData = false
        while true {
            guard offset + 12 <= bytes.count else {
                throw corrupt("truncated: the file ends at byte \(bytes.count) before the IEND chunk")
            }
            let length = Int(bytes.bigEndianUInt32(at: offset))
            let type = bytes.fourCC(at: offset + 4)
            guard length <= Int(Int32.max) else { throw corrupt("chunk \(type) at byte \(offset) declares an impossible length") }
            guard offset + 12 + length <= bytes.count else {
                throw corrupt("truncated: chunk \(type) at byte \(offset) declares \(length) bytes but only \(bytes.count - offset - 12) remain")
            }
            let stored = bytes.bigEndianUInt32(at: offset + 8 + length)
            guard CRC32.checksum(bytes[(offset + 4)..<(offset + 8 + length)]) == stored else {
                throw corrupt("chunk \(type) at byte \(offset) fails its CRC check")
            }
            if header == nil {
                guard type == "IHDR", length == 13 else { throw corrupt("the first chunk must be a 13-byte IHDR, found \(type)") }
                header = try parseHeader(bytes, at: offset + 8)
            } else if type == "IDAT" {
                sawImageData = true
            } else if type == "IEND" {
                break
            }
            offset += 12 + length
        }
        guard let info = header else { throw corrupt("no IHDR chunk") }
        guard sawImageData else { throw corrupt("no IDAT chunk: the file holds no pixel data") }
        let pixels = info.width.multipliedReportingOverflow(by: info.height)
        guard !pixels.overflow, pixels.partialValue <= maxPixels else {
            throw QuernError(.inputTooLarge, "the image is \(info.width)×\(info.height) pixels, more than the limit of \(maxPixels) (raise --max-pixels)")
        }
        return info
    }

    private static func parseHeader(_ bytes: [UInt8], at offset: Int) throws(QuernError) -> PNGInfo {
        let width = Int(bytes.bigEndianUInt32(at: offset))
        let height = Int(bytes.bigEndianUInt32(at: offset + 4))
        let bitDepth = Int(bytes[offset + 8])
        let colorType = Int(bytes[offset + 9])
        guard width > 0, height > 0, width <= Int(Int32.max), height <= Int(Int32.max) else {
            throw corrupt("IHDR declares an invalid size \(width)×\(height)")
        }
        let allowedDepths: [Int: Set<Int>] = [0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16]]
        guard let depths = allowedDepths[colorType], depths.contains(bitDepth) else {
            throw corrupt("IHDR declares colour type \(colorType) with bit depth \(bitDepth), which PNG does not allow")
        }
        return PNGInfo(width: width, height: height, bitDepth: bitDepth, colorType: colorType)
    }

    private static func corrupt(_ detail: String) -> QuernError {
        QuernError(.inputCorrupt, "not a valid PNG: \(detail)")
    }
}
