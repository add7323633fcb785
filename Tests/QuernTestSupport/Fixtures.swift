import Foundation

/// Small, valid media files built in code, and ways to break them.
public enum Fixtures {
    /// A valid RGB PNG with a zlib "stored" (uncompressed) IDAT.
    public static func png(width: Int = 2, height: Int = 2) -> [UInt8] {
        var header: [UInt8] = []
        header += HostileMedia.bigEndian(UInt32(width)) + HostileMedia.bigEndian(UInt32(height))
        header += [8, 2, 0, 0, 0]  // 8-bit, truecolour, deflate, adaptive filter, no interlace
        var raw: [UInt8] = []
        for row in 0..<height {
            raw.append(0)  // filter: none
            for column in 0..<width { raw += [UInt8(truncatingIfNeeded: row * 40), UInt8(truncatingIfNeeded: column * 80), 200] }
        }
        return HostileMedia.chunks([("IHDR", header), ("IDAT", zlibStored(raw)), ("IEND", [])])
    }

    /// A PNG whose header claims `width`×`height` but holds a few bytes of data.
    public static func pngBomb(width: Int, height: Int) -> [UInt8] {
        var header: [UInt8] = HostileMedia.bigEndian(UInt32(width)) + HostileMedia.bigEndian(UInt32(height))
        header += [8, 2, 0, 0, 0]
        return HostileMedia.chunks([("IHDR", header), ("IDAT", zlibStored([0, 1, 2, 3])), ("IEND", [])])
    }

    /// 16-bit mono PCM at 16 kHz.
    public static func wav(samples: Int = 1600) -> [UInt8] {
        let dataBytes = samples * 2
        var bytes = Array("RIFF".utf8) + HostileMedia.littleEndian(UInt32(36 + dataBytes)) + Array("WAVE".utf8)
        bytes += Array("fmt ".utf8) + HostileMedia.littleEndian(UInt32(16)) + HostileMedia.littleEndian16(1) + HostileMedia.littleEndian16(1)
        bytes += HostileMedia.littleEndian(UInt32(16_000)) + HostileMedia.littleEndian(UInt32(32_000)) + HostileMedia.littleEndian16(2) + HostileMedia.littleEndian16(16)
        bytes += Array("data".utf8) + HostileMedia.littleEndian(UInt32(dataBytes))
        for index in 0..<samples {
            let value = Int16(sin(Double(index) * 0.1) * 8000)
            bytes += HostileMedia.littleEndian16(UInt16(bitPattern: value))
        }
        return bytes
    }

    private static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = [0x78, 0x01, 0x01]
        let length = UInt16(data.count)
        bytes += HostileMedia.littleEndian16(length) + HostileMedia.littleEndian16(~length) + data
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in data { a = (a + UInt32(byte)) % 65521; b = (b + a) % 65521 }
        return bytes + HostileMedia.bigEndian(b << 16 | a)
    }

}

/// File names as raw bytes, for names Swift's String paths cannot carry.
public enum RawNames {
    public static func c(_ bytes: [UInt8]) -> [CChar] { bytes.map { CChar(bitPattern: $0) } + [0] }

    public static func join(_ directory: URL, _ name: [UInt8]) -> [UInt8] { Array(directory.path.utf8) + [UInt8(ascii: "/")] + name }

    /// Write-then-rename under a raw byte name.
    public static func drop(into scratch: Scratch, name: [UInt8], contents: [UInt8]) throws {
        let staged = join(scratch.staging, name)
        let descriptor = open(c(staged), O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else { throw HarnessError("open failed: \(errno)") }
        _ = contents.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        close(descriptor)
        guard rename(c(staged), c(join(scratch.inbox, name))) == 0 else { throw HarnessError("rename failed: \(errno)") }
    }

    public static func entries(_ directory: URL) -> [[UInt8]] {
        guard let stream = opendir(directory.path) else { return [] }
        defer { closedir(stream) }
        var names: [[UInt8]] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
            if name != [0x2E], name != [0x2E, 0x2E] { names.append(name) }
        }
        return names
    }
}
