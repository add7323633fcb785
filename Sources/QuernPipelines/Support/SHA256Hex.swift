import Crypto

/// SHA-256 checksums as the lowercase hex the result documents carry.
/// The hashing itself is swift-crypto's (BoringSSL's assembly, with the
/// CPU's SHA extensions where it has them): every input, up to the 256 MiB
/// limit, and every model at start-up is hashed, so this is on the hot path.
public enum SHA256Hex {
    public static func of<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var hasher = SHA256()
        update(&hasher, with: bytes)
        return finalize(hasher)
    }

    /// Feeds bytes without copying them when they are contiguous in memory.
    public static func update<Bytes: Collection>(_ hasher: inout SHA256, with bytes: Bytes) where Bytes.Element == UInt8 {
        let handled: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            hasher.update(bufferPointer: UnsafeRawBufferPointer(buffer))
        }
        if handled == nil { hasher.update(data: Array(bytes)) }
    }

    public static func finalize(_ hasher: SHA256) -> String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(2 * SHA256.byteCount)
        for byte in hasher.finalize() {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
