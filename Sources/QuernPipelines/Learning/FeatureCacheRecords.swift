import Crypto

/// The bytes of a feature cache file: a 12-byte header ("QUERNFC1" and the
/// vector width, little-endian UInt32), then fixed-size records appended
/// one after another:
///
///     UInt32 LE   payload length (32 + 4 × width)
///     8 bytes     the first 8 bytes of the payload's SHA-256
///     32 bytes    the input's SHA-256 (the key)
///     width × Float32 LE
///
/// A crash mid-append leaves a short or unverifiable last record; a
/// damaged or hostile file fails a length or a checksum. Either way reading
/// stops at the first record that does not verify, and what follows is
/// dropped. The checksum is SHA-256 (already linked, with the CPU's SHA
/// instructions): stronger than a CRC-32, and 30 MB of records hash in a
/// few tens of milliseconds.
enum FeatureCacheRecords {
    static let magic: [UInt8] = Array("QUERNFC1".utf8)
    static let headerSize = 12
    static let keySize = 32
    static let checksumSize = 8
    /// The widest vector a cache file may hold (a bound for hostile headers).
    static let maximumWidth = 1 << 16

    static func recordSize(width: Int) -> Int { 4 + checksumSize + keySize + 4 * width }

    static func header(width: Int) -> [UInt8] { magic + littleEndian(UInt32(width)) }

    /// The width a header declares; nil when it is not a header of ours.
    static func width(ofHeader bytes: [UInt8]) -> Int? {
        guard bytes.count == headerSize, Array(bytes[0..<8]) == magic else { return nil }
        let width = Int(readUInt32(bytes, at: 8))
        return (1...maximumWidth).contains(width) ? width : nil
    }

    static func encode(key: [UInt8], vector: [Float]) -> [UInt8] {
        var payload = key
        payload.reserveCapacity(keySize + 4 * vector.count)
        for value in vector { payload += littleEndian(value.bitPattern) }
        return littleEndian(UInt32(payload.count)) + checksum(payload[...]) + payload
    }

    /// The records at the start of `bytes` (a whole number of records' worth
    /// read from the file), up to the first one that does not verify.
    /// Entries with a non-finite value are verified but not returned.
    static func decode(_ bytes: [UInt8], width: Int) -> (entries: [(key: [UInt8], vector: [Float])], validBytes: Int) {
        let size = recordSize(width: width)
        var entries: [(key: [UInt8], vector: [Float])] = []
        var offset = 0
        while offset + size <= bytes.count {
            let payloadStart = offset + 4 + checksumSize
            guard Int(readUInt32(bytes, at: offset)) == keySize + 4 * width,
                  Array(bytes[(offset + 4)..<payloadStart]) == checksum(bytes[payloadStart..<(offset + size)]) else { break }
            let key = Array(bytes[payloadStart..<(payloadStart + keySize)])
            var vector = [Float](repeating: 0, count: width)
            var position = payloadStart + keySize
            var finite = true
            for index in 0..<width {
                vector[index] = Float(bitPattern: readUInt32(bytes, at: position))
                finite = finite && vector[index].isFinite
                position += 4
            }
            if finite { entries.append((key, vector)) }
            offset += size
        }
        return (entries, offset)
    }

    private static func checksum(_ payload: ArraySlice<UInt8>) -> [UInt8] {
        Array(SHA256.hash(data: payload).prefix(checksumSize))
    }

    private static func littleEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value & 0xFF), UInt8((value >> 8) & 0xFF), UInt8((value >> 16) & 0xFF), UInt8(value >> 24)]
    }

    private static func readUInt32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
    }

    /// A lowercase or uppercase hex SHA-256 as its 32 bytes; nil for anything else.
    static func key(hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count == 2 * keySize else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(keySize)
        var index = 0
        while index < digits.count {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
