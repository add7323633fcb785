import CSndFile
import Foundation
@testable import QuernMedia
import QuernTestSupport
import Testing

/// The one WAVE header reader (`WaveHeader`) and the intake check built on
/// it (`WAVProbe`): RIFF, big-endian RIFX, RF64 with its ds64 sizes, what a
/// truncated or streaming file declares, and each header fault by name.
@Suite struct WaveHeaderTests {
    /// A WAVE file in `container` from chunks (identifier, body), integers in
    /// the container's byte order; `dataSize` is written as the data chunk's
    /// size instead of the real one.
    static func wave(_ container: String = "RIFF", format: [UInt8], before: [(String, [UInt8])] = [],
                     data: [UInt8], dataSize: UInt32? = nil) -> [UInt8] {
        let bigEndian = container == "RIFX"
        func u32(_ value: UInt32) -> [UInt8] { let bytes = le32(value); return bigEndian ? bytes.reversed() : bytes }
        var body = Array("WAVE".utf8)
        for (identifier, content) in [("fmt ", format)] + before {
            body += Array(identifier.utf8) + u32(UInt32(content.count)) + content + (content.count % 2 == 1 ? [0] : [])
        }
        body += Array("data".utf8) + u32(dataSize ?? UInt32(data.count)) + data
        let riffSize: UInt32 = container == "RF64" ? 0xFFFF_FFFF : UInt32(body.count)
        return Array(container.utf8) + u32(riffSize) + body
    }

    /// A 16-byte fmt body: tag, channels, rate, byte rate, block_align, bits.
    static func format(tag: UInt16 = 1, channels: UInt16 = 2, rate: UInt32 = 8000, blockAlign: UInt16 = 4, bits: UInt16 = 16,
                       bigEndian: Bool = false) -> [UInt8] {
        func u16(_ value: UInt16) -> [UInt8] { let bytes = le16(value); return bigEndian ? bytes.reversed() : bytes }
        func u32(_ value: UInt32) -> [UInt8] { let bytes = le32(value); return bigEndian ? bytes.reversed() : bytes }
        return u16(tag) + u16(channels) + u32(rate) + u32(rate * UInt32(blockAlign)) + u16(blockAlign) + u16(bits)
    }

    @Test func riffPCM() throws {
        let bytes = Self.wave(format: Self.format(), data: [UInt8](repeating: 7, count: 400))
        let header = try WaveHeader(bytes)
        #expect(header.container == .riff)
        #expect(header.format == WaveHeader.Format(formatTag: 1, channels: 2, sampleRate: 8000, blockAlign: 4, bitsPerSample: 16))
        #expect(header.declaredDataBytes == 400 && header.presentDataBytes == 400 && header.declaredFrames == 100)
        #expect(try WAVProbe.inspect(bytes) == 100.0 / 8000)
    }

    @Test func rifxIsReadBigEndian() throws {
        let bytes = Self.wave("RIFX", format: Self.format(bigEndian: true), data: [UInt8](repeating: 7, count: 400))
        #expect(WAVProbe.matches(bytes))
        let header = try WaveHeader(bytes)
        #expect(header.container == .rifx)
        #expect(header.format == WaveHeader.Format(formatTag: 1, channels: 2, sampleRate: 8000, blockAlign: 4, bitsPerSample: 16))
        #expect(header.declaredFrames == 100)
    }

    /// RF64 keeps the real sizes in ds64; the 32-bit data size says 0xFFFFFFFF.
    @Test func rf64TakesTheDataSizeFromDS64() throws {
        var ds64 = [UInt8](repeating: 0, count: 28)
        ds64.replaceSubrange(8..<16, with: le32(400) + le32(0))
        let bytes = Self.wave("RF64", format: Self.format(), before: [("ds64", ds64)], data: [UInt8](repeating: 7, count: 400),
                              dataSize: 0xFFFF_FFFF)
        let header = try WaveHeader(bytes)
        #expect(header.container == .rf64 && header.declaredDataBytes == 400 && header.declaredFrames == 100)
        // Without ds64 the length is open: the data runs to the end of the file.
        let open = Self.wave("RF64", format: Self.format(), data: [UInt8](repeating: 7, count: 400), dataSize: 0xFFFF_FFFF)
        #expect(try WaveHeader(open).declaredDataBytes == nil)
        #expect(try WaveHeader(open).declaredFrames == nil)
        #expect(try WAVProbe.inspect(open) == 100.0 / 8000)
        // A ds64 promising more than the file holds is a truncated file.
        ds64.replaceSubrange(8..<16, with: le32(4000) + le32(0))
        let cut = Self.wave("RF64", format: Self.format(), before: [("ds64", ds64)], data: [UInt8](repeating: 7, count: 400),
                            dataSize: 0xFFFF_FFFF)
        #expect(try WaveHeader(cut).declaredFrames == 1000)
        #expect(throws: MediaError(.corrupt, "not a valid WAV file: truncated: the data chunk declares 4000 bytes but only 400 remain")) {
            try WAVProbe.inspect(cut)
        }
    }

    /// A data chunk longer than the file is what a cut recording looks like:
    /// the reader reports both sizes (the decoder's "declares N frames"),
    /// the intake check refuses it.
    @Test func truncatedDataIsReportedNotRead() throws {
        let bytes = Self.wave(format: Self.format(), data: [UInt8](repeating: 7, count: 100), dataSize: 4000)
        let header = try WaveHeader(bytes)
        #expect(header.declaredDataBytes == 4000 && header.presentDataBytes == 100 && header.declaredFrames == 1000)
        #expect(throws: MediaError.self) { try WAVProbe.inspect(bytes) }
        // A streaming writer's 0xFFFFFFFF: open, measured by the bytes there are.
        let streaming = Self.wave(format: Self.format(), data: [UInt8](repeating: 7, count: 400), dataSize: 0xFFFF_FFFF)
        #expect(try WaveHeader(streaming).declaredFrames == nil)
        #expect(try WAVProbe.inspect(streaming) == 100.0 / 8000)
    }

    @Test func extensibleFormatsUseTheirSubformat() throws {
        var builder = WaveBuilder(bitsPerSample: 32, extensibleSubformat: 3)
        let float = try WaveHeader(builder.build(data: float32Bytes([0, 0.5, -0.5, 1])))
        #expect(float.format.formatTag == 3 && float.format.isLinear && float.declaredFrames == 4)
        builder.extensibleSubformat = 0x55  // MP3: frames are not bytes over block_align
        let compressed = try WaveHeader(builder.build(data: [UInt8](repeating: 0, count: 16)))
        #expect(!compressed.format.isLinear && compressed.declaredFrames == nil)
    }

    @Test func headerFaultsAreNamed() {
        let cases: [([UInt8], String)] = [
            (Self.wave(format: Self.format(channels: 0), data: [0, 0]), "declares 0 channels"),
            (Self.wave(format: Self.format(rate: 0), data: [0, 0]), "declares a sample rate of 0 Hz"),
            (Self.wave(format: Self.format(blockAlign: 0), data: [0, 0]), "declares a block_align of 0"),
            (Self.wave(format: Self.format(bits: 0), data: [0, 0]), "declares 0 bits per sample"),
            (Self.wave(format: Array(Self.format().prefix(14)), data: [0, 0]), "the fmt chunk is 14 bytes"),
            (Array("RIFF".utf8) + le32(4) + Array("WAVE".utf8) + Array("data".utf8) + le32(2) + [0, 0], "no fmt chunk"),
            (Array(Self.wave(format: Self.format(), data: []).prefix(30)), "declares 16 bytes but only 10 remain"),
            (Array(Self.wave(format: Self.format(), data: []).prefix(36)), "no data chunk"),
            (Array("RIFF....AVI ".utf8), "header is missing"),
        ]
        for (bytes, expected) in cases {
            do {
                _ = try WaveHeader(bytes)
                Issue.record("accepted a header that \(expected)")
            } catch {
                #expect(error.kind == .corrupt && error.message.contains(expected), "\(error.message)")
            }
        }
        // Compressed data may leave bits per sample at 0.
        #expect(throws: Never.self) { try WaveHeader(Self.wave(format: Self.format(tag: 0x55, bits: 0), data: [0, 0])) }
        #expect(throws: MediaError(.empty, "the WAV file holds no audio samples")) {
            try WAVProbe.inspect(Self.wave(format: Self.format(), data: []))
        }
    }

    /// The header's frame count agrees with what libsndfile writes, in every
    /// WAVE flavour it writes.
    @Test(arguments: [
        Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_16),
        Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_16 | SF_ENDIAN_BIG),
        Int32(SF_FORMAT_WAVEX | SF_FORMAT_FLOAT),
        Int32(SF_FORMAT_RF64 | SF_FORMAT_PCM_24),
    ])
    func framesMatchLibsndfile(_ format: Int32) throws {
        let samples = (0..<1234).map { Float(($0 % 64) - 32) / 64 }
        let bytes = try AudioContainerTests.write(samples, rate: 16_000, format: format)
        let header = try WaveHeader(bytes)
        #expect(header.declaredFrames == 1234, "\(header)")
        #expect(try WAVProbe.inspect(bytes) == 1234.0 / 16_000)
        #expect(SoundFileProbe.inspect(bytes)?.frames == 1234)
    }
}
