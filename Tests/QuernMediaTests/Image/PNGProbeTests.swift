@testable import QuernMedia
import QuernTestSupport
import Testing

/// The PNG structure check intake runs before any decoding: chunk lengths
/// against the file, every CRC (zlib's crc32), IHDR first and valid, IDAT
/// present, IEND last, and the pixel limit from IHDR alone.
@Suite struct PNGProbeTests {
    static let good = HostileMedia.png(width: 3, height: 2, colorType: 2) { _ in [UInt8](repeating: 90, count: 9) }

    @Test func wellFormedFileGivesItsHeader() throws {
        #expect(PNGProbe.matches(Self.good))
        let header = try PNGProbe.inspect(Self.good)
        #expect(header == PNGHeader(width: 3, height: 2, bitDepth: 8, colorType: .rgb))
        #expect(try PNGProbe.inspect(Self.good, maximumPixels: 6) == header)
    }

    /// The pixel limit is checked on IHDR: a 1 × 40,000,000 strip of 77 KB
    /// is refused without inflating it; its shape alone is no fault.
    @Test func pixelLimitFromTheHeader() throws {
        let strip = HostileMedia.grayPNG(width: 1, height: 40_000_000)
        #expect(try PNGProbe.inspect(strip).pixels == 40_000_000)
        #expect(throws: MediaError(.tooLarge, "the image is 1×40000000 pixels, more than the limit of 39999999")) {
            try PNGProbe.inspect(strip, maximumPixels: 39_999_999)
        }
        #expect(throws: MediaError.self) { try PNGProbe.inspect(Self.good, maximumPixels: 5) }
    }

    @Test func everyStructuralFaultIsCorrupt() {
        let good = Self.good
        var flipped = good
        flipped[good.count - 14] ^= 0x01  // inside IDAT's data: its CRC no longer matches
        let ihdr = Array(good[8..<33])
        let iend = Array(good.suffix(12))
        let cases: [([UInt8], String)] = [
            (Array(good.prefix(good.count - 5)), "truncated"),
            (flipped, "fails its CRC check"),
            (Array(good.prefix(8)) + iend, "the first chunk must be a 13-byte IHDR, found IEND"),
            (Array(good.prefix(8)) + ihdr + iend, "no IDAT chunk"),
            (HostileMedia.chunks([("IHDR", [0, 0, 0, 3, 0, 0, 0, 2, 16, 3, 0, 0, 0]), ("IDAT", []), ("IEND", [])]),
             "colour type 3 with bit depth 16"),
            (HostileMedia.chunks([("IHDR", [0, 0, 0, 0, 0, 0, 0, 2, 8, 2, 0, 0, 0]), ("IDAT", []), ("IEND", [])]),
             "invalid size 0×2"),
            (Array("GIF89a".utf8), "signature is missing"),
        ]
        for (bytes, expected) in cases {
            do {
                _ = try PNGProbe.inspect(bytes)
                Issue.record("accepted a file with \(expected)")
            } catch {
                #expect(error.kind == .corrupt && error.message.contains(expected), "\(error.message)")
            }
        }
    }
}
