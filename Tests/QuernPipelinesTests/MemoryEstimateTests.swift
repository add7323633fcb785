import QuernPipelines
import Testing

@Suite struct MemoryEstimateTests {
    let limits = InputLimits()

    /// A WAV whose RIFF size bytes happen to be printable must not be
    /// estimated as text (twelve copies of a 230 MB file refused a valid
    /// 2-hour recording as too large for a 1.2 GB budget).
    @Test func aWAVWithPrintableSizeBytesIsAudio() {
        let prefix = Array("RIFF".utf8) + [0x24, 0xC0, 0xB8, 0x0D] + Array("WAVEfmt ".utf8) + [UInt8](repeating: 0x41, count: 48)
        let size = 230 << 20
        let estimate = MemoryEstimate.bytes(size: size, prefix: prefix, limits: limits)
        #expect(estimate < size * 3)
        #expect(estimate > size)
    }

    @Test func textIsEstimatedAtSeveralCopies() {
        let prefix = Array("What is the capital of France? Quern answers in".utf8)
        let text = MemoryEstimate.bytes(size: 1 << 20, prefix: prefix, limits: limits)
        #expect(text >= 12 << 20)
        // Invalid UTF-8 in the head is not text (it is estimated as audio, decoded).
        #expect(MemoryEstimate.bytes(size: 1 << 20, prefix: [0x41, 0xC0, 0x80, 0x41], limits: limits) != text)
        // A multi-byte character cut by the end of the prefix is still text.
        #expect(MemoryEstimate.bytes(size: 1 << 20, prefix: Array("漢字".utf8).dropLast(), limits: limits) == text)
    }

    @Test func aPNGIsEstimatedFromItsHeader() {
        var prefix: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13] + Array("IHDR".utf8)
        prefix += [0, 0, 0x1F, 0x40, 0, 0, 0x13, 0x88, 16, 6, 0, 0, 0, 0, 0, 0, 0]  // 8000 x 5000 RGBA 16-bit
        let estimate = MemoryEstimate.bytes(size: 1 << 20, prefix: prefix, limits: limits)
        #expect(estimate >= 8000 * 5000 * 8 + 8000 * 5000 * 3)
    }

    /// A JPEG's frame header, found behind its APP segments within the
    /// prefix, gives its cost; without it the file's size stands in.
    @Test func aJPEGIsEstimatedFromItsFrameHeader() {
        let exif: [UInt8] = [0xFF, 0xE1, 0x40, 0x00] + [UInt8](repeating: 0, count: 0x4000 - 2)  // a 16 kB APP1 first
        // 6000 x 4000, 3 components, progressive (SOF2).
        let frame: [UInt8] = [0xFF, 0xC2, 0, 17, 8, 0x0F, 0xA0, 0x17, 0x70, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]
        let prefix = [0xFF, 0xD8] + exif + frame
        let estimate = MemoryEstimate.bytes(size: 5 << 20, prefix: prefix, limits: limits)
        #expect(estimate >= 6000 * 4000 * (3 + 6 + 3))
        #expect(estimate < 6000 * 4000 * 16)
        // The frame header beyond the prefix: 64 pixels a byte, up to --max-pixels.
        let unknown = MemoryEstimate.bytes(size: 100_000, prefix: [0xFF, 0xD8] + exif, limits: limits)
        #expect(unknown >= 6_400_000 * 15 && unknown < 6_400_000 * 15 + (20 << 20))
    }
}
