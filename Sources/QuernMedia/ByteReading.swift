/// Fixed-width integers and four-character codes read from a file's bytes,
/// for the container walkers (`PNGProbe`, `WaveHeader`). Callers check that
/// the bytes are there first; these only assemble them.
extension Array where Element == UInt8 {
    func bigEndianUInt32(at offset: Int) -> UInt32 {
        UInt32(self[offset]) << 24 | UInt32(self[offset + 1]) << 16 | UInt32(self[offset + 2]) << 8 | UInt32(self[offset + 3])
    }

    /// A `width`-byte unsigned integer (1…8 bytes) in either byte order.
    func unsignedInteger(at offset: Int, width: Int, bigEndian: Bool) -> UInt64 {
        var value: UInt64 = 0
        for index in 0..<width {
            value = value << 8 | UInt64(self[offset + (bigEndian ? index : width - 1 - index)])
        }
        return value
    }

    func hasPrefix(_ prefix: [UInt8], at offset: Int = 0) -> Bool {
        offset + prefix.count <= count && self[offset..<offset + prefix.count].elementsEqual(prefix)
    }

    /// Four bytes as text, anything outside printable ASCII shown as "?".
    func fourCC(at offset: Int) -> String {
        String(decoding: self[offset..<offset + 4].map { (0x20...0x7E).contains($0) ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
    }
}
