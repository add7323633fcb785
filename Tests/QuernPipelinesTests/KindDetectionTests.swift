import Foundation
import QuernMedia
import QuernModels
import QuernPipelines
import QuernTestSupport
import Testing

@Suite struct KindDetectionTests {
    private let inspector = InputInspector(limits: InputLimits(maxBytes: 1 << 20, maxPixels: 1_000_000, maxAudioSeconds: 60, maxTextCharacters: 1000))

    private func inspect(_ bytes: [UInt8], name: String = "file") -> Inspection {
        inspector.inspect(name: Array(name.utf8), bytes: bytes)
    }

    private func code(_ inspection: Inspection) -> ErrorCode? {
        if case let .failure(error) = inspection.outcome { return error.code }
        return nil
    }

    @Test func pngByMagicWhateverTheName() {
        let inspection = inspect(Fixtures.png(), name: "holiday.txt")
        #expect(inspection.kind == .image)
        guard case let .success(job) = inspection.outcome, case .classify = job.request else {
            Issue.record("a valid PNG did not become a classify job: \(inspection.outcome)"); return
        }
    }

    /// A JPEG is an image by its FF D8 FF, whatever its name; its markers are
    /// walked at intake, and its frame header checked against --max-pixels.
    @Test func jpegByMagicWhateverTheName() throws {
        let photo = try JPEGDecoderFixtures.bytes("baseline-420.jpg")
        for name in ["photo.jpg", "IMG_0001.JPEG", "holiday.png", "noextension"] {
            let inspection = inspect(photo, name: name)
            #expect(inspection.kind == .image)
            guard case let .success(job) = inspection.outcome, case .classify = job.request else {
                Issue.record("a valid JPEG named \(name) did not become a classify job: \(inspection.outcome)"); return
            }
        }
        let bomb = inspect(try JPEGDecoderFixtures.bytes("bomb-65000x65000.jpg"))
        #expect(bomb.kind == .image && code(bomb) == .inputTooLarge)
        if case let .failure(error) = bomb.outcome { #expect(error.message.contains("--max-pixels")) }
        #expect(code(inspect(try JPEGDecoderFixtures.bytes("truncated-header.jpg"))) == .inputCorrupt)
        #expect(code(inspect(try JPEGDecoderFixtures.bytes("precision-12.jpg"))) == .unsupported)
        // Base64 in a classify request, checked the same way.
        let request = #"{"task": "classify", "input": "\#(Data(photo).base64EncodedString())"}"#
        let inspected = inspect(Array(request.utf8), name: "request.json")
        #expect(inspected.kind == .request)
        guard case .success = inspected.outcome else { Issue.record("\(inspected.outcome)"); return }
    }

    @Test func brokenPNGs() throws {
        let good = Fixtures.png()
        #expect(code(inspect(Array(good.prefix(good.count - 20)))) == .inputCorrupt)
        var flipped = good
        flipped[40] ^= 0xFF  // inside IDAT: its CRC no longer matches
        #expect(code(inspect(flipped)) == .inputCorrupt)
        #expect(code(inspect(Array(good.prefix(12)))) == .inputCorrupt)
        #expect(code(inspect(HostileMedia.chunks([("IHDR", Array(repeating: 0, count: 13)), ("IEND", [])]))) == .inputCorrupt)
        // A decompression bomb: 100k × 100k declared in a ~70-byte file.
        let bomb = inspect(Fixtures.pngBomb(width: 100_000, height: 100_000))
        #expect(bomb.kind == .image)
        #expect(code(bomb) == .inputTooLarge)
    }

    @Test func wavAndItsFaults() {
        let good = inspect(Fixtures.wav())
        #expect(good.kind == .audio)
        guard case let .success(job) = good.outcome, case .transcribe = job.request else {
            Issue.record("a valid WAV did not become a transcribe job: \(good.outcome)"); return
        }
        #expect(code(inspect(Array(Fixtures.wav().prefix(100)))) == .inputCorrupt)  // data chunk cut short
        #expect(code(inspect(Fixtures.wav(samples: 0))) == .inputEmpty)
        #expect(code(inspect(Fixtures.wav(samples: 16_000 * 61))) == .inputTooLarge)  // 61 s > 60 s limit
        var badFormat = Fixtures.wav()
        badFormat[22] = 0; badFormat[23] = 0  // zero channels
        #expect(code(inspect(badFormat)) == .inputCorrupt)
    }

    /// Durations come from frames (data bytes / block_align) and the sample
    /// rate: a false byte_rate no longer makes 60 s look like 1 s.
    @Test func wavDurationIgnoresByteRate() {
        let tenSeconds = InputInspector(limits: InputLimits(maxAudioSeconds: 10))
        let spoofed = HostileMedia.wav(frames: 60 * 16_000, byteRate: 60 * 32_000)
        #expect(code(tenSeconds.inspect(name: Array("a.wav".utf8), bytes: spoofed)) == .inputTooLarge)
        let honest = HostileMedia.wav(frames: 5 * 16_000, byteRate: 1)
        #expect(code(tenSeconds.inspect(name: Array("b.wav".utf8), bytes: honest)) == nil)
    }

    @Test func wavHeaderFaultsAreNamed() {
        let cases: [([UInt8], String)] = [
            (HostileMedia.wav(frames: 100, bitsPerSample: 0), "declares 0 bits per sample"),
            (HostileMedia.wav(frames: 100, blockAlign: 0), "declares a block_align of 0"),
            (HostileMedia.wav(frames: 100, channels: 0), "declares 0 channels"),
            (HostileMedia.wav(frames: 100, sampleRate: 0), "declares a sample rate of 0 Hz"),
        ]
        for (bytes, expected) in cases {
            let inspection = inspect(bytes)
            #expect(code(inspection) == .inputCorrupt)
            if case let .failure(error) = inspection.outcome {
                #expect(error.message.contains(expected), "\(error.message)")
                #expect(!error.message.contains("1 channels"))
            }
        }
    }

    /// The shape is free (no aspect-ratio limit): thin strips are images
    /// like any other, bounded by the pixel limit.
    @Test func pngStripsOfAnyShapeWithinThePixelLimit() {
        #expect(code(inspect(Fixtures.pngBomb(width: 1, height: 200))) == nil)
        #expect(code(inspect(Fixtures.pngBomb(width: 300, height: 3))) == nil)
        #expect(code(inspect(Fixtures.pngBomb(width: 1, height: 1_000_000))) == nil)
        let strip = inspect(Fixtures.pngBomb(width: 1, height: 1_000_001))
        #expect(code(strip) == .inputTooLarge)
        if case let .failure(error) = strip.outcome { #expect(error.message.contains("more than the limit of 1000000"), "\(error.message)") }
    }

    @Test func textAndItsFaults() {
        let plain = inspect(Array("Bonjour, ça va ?\n".utf8), name: "note.md")
        #expect(plain.kind == .text)
        #expect((try? plain.outcome.get())?.request == .chat(messages: [ChatMessage(role: .user, content: "Bonjour, ça va ?\n")], sampling: SamplingParameters()))
        let latin1 = inspect([0x63, 0x61, 0x66, 0xE9, 0x20, 0x6E, 0x6F, 0x69, 0x72, 0x0A])
        #expect(latin1.kind == .text)
        #expect(code(latin1) == .inputNotUTF8)
        if case let .failure(error) = latin1.outcome { #expect(error.message.contains("byte 3")) }
        #expect(code(inspect([0xFF, 0xFE, 0x68, 0x00, 0x69, 0x00])) == .inputNotUTF8)
        #expect(code(inspect([0x00, 0x01, 0x02, 0x03, 0xFF, 0x10, 0x00])) == .inputUnrecognized)
        #expect(code(inspect([])) == .inputEmpty)
        #expect(code(inspect(Array(String(repeating: "é", count: 1001).utf8))) == .inputTooLarge)
        #expect(code(inspect([UInt8](repeating: 0x61, count: (1 << 20) + 1))) == .inputTooLarge)
    }

    @Test func textTaskIsConfigurable() {
        let embedder = InputInspector(limits: InputLimits(), textTask: .embed)
        #expect((try? embedder.inspect(name: Array("a.txt".utf8), bytes: Array("hi".utf8)).outcome.get())?.request == .embed(inputs: ["hi"]))
    }

    @Test func requestsByExtensionOrByTaskField() {
        let request = inspect(Array(#"{"task": "embed", "input": "x"}"#.utf8), name: "r.json")
        #expect(request.kind == .request)
        #expect((try? request.outcome.get())?.request == .embed(inputs: ["x"]))
        #expect(inspect(Array(#"{"task": "embed", "input": "x"}"#.utf8), name: "noext").kind == .request)
        // JSON without a task, in a .txt file, is just text to talk about.
        #expect(inspect(Array(#"{"name": "x"}"#.utf8), name: "data.txt").kind == .text)
        let broken = inspect(Array("{not json".utf8), name: "r.JSON")
        #expect(broken.kind == .request)
        #expect(code(broken) == .requestInvalidJSON)
    }

    @Test func mediaInsideRequestsIsProbedToo() {
        let truncated = Array(Fixtures.png().prefix(30))
        let base64 = truncated.base64
        let inspection = inspect(Array(#"{"task": "classify", "input": "\#(base64)"}"#.utf8), name: "r.json")
        #expect(code(inspection) == .inputCorrupt)
        let good = inspect(Array(#"{"task": "transcribe", "input": "\#(Fixtures.wav().base64)"}"#.utf8), name: "r.json")
        if case let .success(job) = good.outcome, case let .transcribe(audio, _) = job.request {
            #expect(audio == Fixtures.wav())
        } else {
            Issue.record("transcribe request failed: \(good.outcome)")
        }
    }

    @Test func libsndfileOpensAValidWAVFromMemory() {
        let info = SoundFileProbe.inspect(Fixtures.wav(samples: 16_000))
        #expect(info?.sampleRate == 16_000)
        #expect(info?.frames == 16_000)
        #expect(info?.channels == 1)
        #expect(SoundFileProbe.inspect(Array("just some text".utf8)) == nil)
    }
}

extension Array where Element == UInt8 {
    var base64: String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var output: [UInt8] = []
        var index = 0
        while index < count {
            let chunk = Array(self[index..<Swift.min(index + 3, count)])
            let value = chunk.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << UInt32(16 - 8 * $1.offset) }
            for position in 0..<4 {
                output.append(position <= chunk.count ? alphabet[Int(value >> UInt32(18 - 6 * position) & 0x3F)] : UInt8(ascii: "="))
            }
            index += 3
        }
        return String(decoding: output, as: UTF8.self)
    }
}

/// The decoder corpus's files (scripts/make-jpeg-corpus.py).
enum JPEGDecoderFixtures {
    static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: JPEGTestSupport.corpus + "/" + name)))
    }
}
