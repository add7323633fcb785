import CZlib

/// Hostile media files built in memory for tests: PNGs with huge, thin or
/// costly headers whose pixel data really is there (zlib-compressed, so a
/// 1 × 40,000,000 strip is ~77 KB), and WAV files whose headers lie.
public enum HostileMedia {
    /// A PNG of `height` rows produced by `row(y)` (each `width` pixels of
    /// the given colour type and bit depth, unfiltered), deflated with zlib.
    public static func png(width: Int, height: Int, bitDepth: Int = 8, colorType: UInt8 = 0,
                           row: (Int) -> [UInt8]) -> [UInt8] {
        var header = bigEndian(UInt32(width)) + bigEndian(UInt32(height))
        header += [UInt8(bitDepth), colorType, 0, 0, 0]
        return chunks([("IHDR", header), ("IDAT", deflate(height: height, row: row)), ("IEND", [])])
    }

    /// A `width` × `height` 8-bit gray image, every pixel `value`.
    public static func grayPNG(width: Int, height: Int, value: UInt8 = 128) -> [UInt8] {
        let line = [UInt8](repeating: value, count: width)
        return png(width: width, height: height) { _ in line }
    }

    public static func chunks(_ chunks: [(String, [UInt8])]) -> [UInt8] {
        var bytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        for (type, data) in chunks {
            let body = Array(type.utf8) + data
            let crc = body.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, UInt32($0.count))) }
            bytes += bigEndian(UInt32(data.count)) + body + bigEndian(crc)
        }
        return bytes
    }

    /// zlib stream of the rows, each preceded by filter byte 0, fed in blocks
    /// so the raw image (80 MB for a 1 × 40 M strip) is never held whole.
    private static func deflate(height: Int, row: (Int) -> [UInt8]) -> [UInt8] {
        var stream = z_stream()
        deflateInit_(&stream, 9, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        defer { deflateEnd(&stream) }
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var pending: [UInt8] = []
        func pump(_ input: inout [UInt8], finish: Bool) {
            input.withUnsafeMutableBufferPointer { source in
                stream.next_in = source.baseAddress
                stream.avail_in = UInt32(source.count)
                repeat {
                    buffer.withUnsafeMutableBufferPointer { target in
                        stream.next_out = target.baseAddress
                        stream.avail_out = UInt32(target.count)
                        _ = CZlib.deflate(&stream, finish ? Z_FINISH : Z_NO_FLUSH)
                        output += target[0..<(target.count - Int(stream.avail_out))]
                    }
                } while stream.avail_in > 0 || (finish && stream.avail_out == 0)
            }
        }
        for y in 0..<height {
            pending.append(0)
            pending += row(y)
            if pending.count >= 1 << 20 { pump(&pending, finish: false); pending.removeAll(keepingCapacity: true) }
        }
        pump(&pending, finish: true)
        return output
    }

    /// A 16-bit PCM WAV of `frames` frames of a quiet tone whose header can
    /// lie: `byteRate`, `blockAlign`, `bitsPerSample` and the data chunk's
    /// size are written as given when set.
    public static func wav(frames: Int, sampleRate: Int = 16_000, channels: Int = 1, byteRate: UInt32? = nil,
                           blockAlign: UInt16? = nil, bitsPerSample: UInt16? = nil, dataSize: UInt32? = nil) -> [UInt8] {
        let realAlign = channels * 2
        let dataBytes = frames * realAlign
        var bytes = Array("RIFF".utf8) + littleEndian(UInt32(truncatingIfNeeded: 36 + dataBytes)) + Array("WAVE".utf8)
        bytes += Array("fmt ".utf8) + littleEndian(16) + littleEndian16(1) + littleEndian16(UInt16(channels))
        bytes += littleEndian(UInt32(sampleRate)) + littleEndian(byteRate ?? UInt32(sampleRate * realAlign))
        bytes += littleEndian16(blockAlign ?? UInt16(realAlign)) + littleEndian16(bitsPerSample ?? 16)
        bytes += Array("data".utf8) + littleEndian(dataSize ?? UInt32(truncatingIfNeeded: dataBytes))
        bytes.reserveCapacity(bytes.count + dataBytes)
        var period: [UInt8] = []
        for frame in 0..<64 {
            let value = UInt16(bitPattern: Int16((frame - 32) * 64))
            for _ in 0..<channels { period += littleEndian16(value) }
        }
        for _ in 0..<(frames / 64) { bytes += period }
        bytes += period.prefix((frames % 64) * realAlign)
        return bytes
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] { [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }
    static func littleEndian(_ value: UInt32) -> [UInt8] { bigEndian(value).reversed() }
    static func littleEndian16(_ value: UInt16) -> [UInt8] { [UInt8(value & 0xFF), UInt8(value >> 8)] }
}
