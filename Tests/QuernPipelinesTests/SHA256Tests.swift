import Crypto
import QuernPipelines
import Testing

@Suite struct SHA256Tests {
    @Test func knownVectors() {
        #expect(SHA256Hex.of([UInt8]()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256Hex.of(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256Hex.of(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256Hex.of([UInt8](repeating: 0x61, count: 1_000_000)) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Slices and non-contiguous collections hash the same bytes as the array.
    @Test func incrementalAndNonContiguousInputsMatchOneShot() {
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        for split in [0, 1, 55, 63, 64, 65, 128, 999] {
            var hasher = SHA256()
            SHA256Hex.update(&hasher, with: bytes[..<split])
            SHA256Hex.update(&hasher, with: bytes[split...].lazy.map { $0 })
            #expect(SHA256Hex.finalize(hasher) == SHA256Hex.of(bytes))
        }
    }
}
