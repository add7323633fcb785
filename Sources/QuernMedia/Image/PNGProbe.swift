import CZlib

/// Checks a PNG's structure without inflating a byte of pixel data: the
/// signature, every chunk's length against the bytes that remain and its CRC,
/// IHDR first with sane values, at least one IDAT, IEND last. The pixel count
/// can be checked against a limit here, so a decompression bomb (a tiny file
/// declaring a huge image) is refused before any decoder allocates for it.
public enum PNGProbe {
    public static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    public static func matches(_ bytes: [UInt8]) -> Bool { bytes.hasPrefix(signature) }

    /// The header of a well-formed PNG, or `.corrupt` naming the first fault.
    public static func inspect(_ bytes: [UInt8]) throws(MediaError) -> PNGHeader {
        guard matches(bytes) else { throw corrupt("the PNG signature is missing") }
        var offset = signature.count
        var header: PNGHeader?
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
            // The CRC covers the chunk type and its data.
            guard checksum(bytes, from: offset + 4, count: 4 + length) == stored else {
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
        guard let header else { throw corrupt("no IHDR chunk") }
        guard sawImageData else { throw corrupt("no IDAT chunk: the file holds no pixel data") }
        return header
    }

    /// `inspect`, and `.tooLarge` when the image has more than `maximumPixels` pixels.
    public static func inspect(_ bytes: [UInt8], maximumPixels: Int) throws(MediaError) -> PNGHeader {
        let header = try inspect(bytes)
        guard header.pixels <= maximumPixels else {
            throw MediaError(.tooLarge, "the image is \(header.width)×\(header.height) pixels, more than the limit of \(maximumPixels)")
        }
        return header
    }

    /// zlib's CRC-32 (the ISO 3309 polynomial PNG uses) of `count` bytes from `start`.
    private static func checksum(_ bytes: [UInt8], from start: Int, count: Int) -> UInt32 {
        bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress, start >= 0, count >= 0, start + count <= buffer.count else { return 0 }
            // crc32 takes a 32-bit length; a chunk is at most 2^31 - 1 bytes.
            return UInt32(crc32(0, base + start, UInt32(count)))
        }
    }

    private static func parseHeader(_ bytes: [UInt8], at offset: Int) throws(MediaError) -> PNGHeader {
        let width = Int(bytes.bigEndianUInt32(at: offset))
        let height = Int(bytes.bigEndianUInt32(at: offset + 4))
        let bitDepth = Int(bytes[offset + 8])
        let colorCode = Int(bytes[offset + 9])
        guard width > 0, height > 0, width <= Int(Int32.max), height <= Int(Int32.max) else {
            throw corrupt("IHDR declares an invalid size \(width)×\(height)")
        }
        let allowedDepths: [PNGColorType: Set<Int>] = [
            .gray: [1, 2, 4, 8, 16], .rgb: [8, 16], .palette: [1, 2, 4, 8], .grayAlpha: [8, 16], .rgba: [8, 16],
        ]
        guard let colorType = PNGColorType(rawValue: colorCode), let depths = allowedDepths[colorType],
              depths.contains(bitDepth) else {
            throw corrupt("IHDR declares colour type \(colorCode) with bit depth \(bitDepth), which PNG does not allow")
        }
        return PNGHeader(width: width, height: height, bitDepth: bitDepth, colorType: colorType,
                         interlaced: bytes[offset + 12] == 1)
    }

    private static func corrupt(_ detail: String) -> MediaError {
        MediaError(.corrupt, "not a valid PNG: \(detail)")
    }
}
