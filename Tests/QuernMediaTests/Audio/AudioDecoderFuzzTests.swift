import Foundation
import QuernMedia
import QuernTensor
import QuernTestSupport
import Testing

/// Corrupted files through the decoder: bytes flipped, headers overwritten,
/// files cut short or padded with junk. Every outcome must be a MediaError
/// or a decode whose samples are finite and whose notes say when it is
/// partial — never a crash, a hang or an unbounded allocation.
@Suite("Audio decoder fuzzing", .serialized)
struct AudioDecoderFuzzTests {
    static let limits = AudioLimits(maxSeconds: 120, maxChannels: 16, maxSampleRate: 384_000)

    /// One random corruption of `original`.
    static func mutate(_ original: [UInt8], _ random: inout SeededGenerator) -> [UInt8] {
        var bytes = original
        switch Int.random(in: 0..<6, using: &random) {
        case 0:  // flip a few bytes anywhere
            for _ in 0..<Int.random(in: 1...16, using: &random) where !bytes.isEmpty {
                bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            }
        case 1:  // corrupt the header region, where lengths and formats live
            for _ in 0..<Int.random(in: 1...6, using: &random) where !bytes.isEmpty {
                bytes[Int.random(in: 0..<min(bytes.count, 96), using: &random)] = UInt8.random(in: 0...255, using: &random)
            }
        case 2:  // cut short
            bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &random)))
        case 3:  // a 32-bit field set to an extreme value
            if bytes.count >= 64 {
                let offset = Int.random(in: 4..<60, using: &random)
                let value: [UInt8] = [[0xFF, 0xFF, 0xFF, 0xFF], [0, 0, 0, 0], [0xFF, 0xFF, 0xFF, 0x7F], [1, 0, 0, 0]]
                    .randomElement(using: &random)!
                bytes.replaceSubrange(offset..<offset + 4, with: value)
            }
        case 4:  // junk appended or spliced in
            let junk = (0..<Int.random(in: 1...4096, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            let at = Int.random(in: 0...bytes.count, using: &random)
            bytes.insert(contentsOf: junk, at: at)
        default:  // a stretch of the body zeroed or repeated
            if bytes.count > 256 {
                let start = Int.random(in: 0..<(bytes.count - 128), using: &random)
                let length = Int.random(in: 1...min(8192, bytes.count - start), using: &random)
                if Bool.random(using: &random) {
                    bytes.replaceSubrange(start..<start + length, with: repeatElement(0, count: length))
                } else {
                    bytes.insert(contentsOf: bytes[start..<start + length], at: start)
                }
            }
        }
        return bytes
    }

    static func check(_ bytes: [UInt8], label: String) {
        do {
            let audio = try AudioDecoder.decode(bytes, limits: limits)
            #expect(audio.sampleRate == 16_000, "\(label)")
            #expect(!audio.samples.isEmpty, "\(label)")
            #expect(audio.samples.allSatisfy { $0.isFinite }, "\(label): non-finite samples")
            #expect(audio.isComplete || !audio.notes.isEmpty, "\(label): partial decode without a note")
            #expect(audio.source.durationSeconds <= limits.maxSeconds, "\(label)")
        } catch {
            #expect(!error.message.isEmpty, "\(label)")
        }
    }

    /// Small seeds, so a thousand mutations run in a few seconds: the start of
    /// real corpus files in each container, plus in-memory WAVE variants.
    static func seeds() throws -> [(String, [UInt8])] {
        var seeds: [(String, [UInt8])] = []
        for file in ["speech20_gb_tiny.wav", "fmt_flac.flac", "fmt_vorbis.ogg", "fmt_mp3.mp3",
                     "fmt_s24_extensible.wav", "fmt_f32_extensible.wav", "fmt_odd_chunk.wav", "fmt_u8.wav"] {
            let bytes = try SpeechCorpus.bytes(file)
            // Whole compressed files (their headers describe the whole stream);
            // PCM files cut to 0.5 s — the header still declares the full length.
            seeds.append((file, file.hasSuffix(".wav") ? Array(bytes.prefix(16_000)) : bytes))
        }
        var stereo = WaveBuilder()
        stereo.channels = 2
        stereo.sampleRate = 44_100
        seeds.append(("stereo 44.1 kHz", stereo.build(data: pcm16((0..<2000).map { Int16(truncatingIfNeeded: $0 * 37) }))))
        var float = WaveBuilder()
        float.formatTag = 3
        float.bitsPerSample = 32
        float.extraChunks = [("LIST", Array("abc".utf8))]
        seeds.append(("float", float.build(data: float32Bytes((0..<1000).map { Float($0 % 50) / 50 - 0.5 }))))
        return seeds
    }

    /// 1500 mutations by default; QUERN_FUZZ_ITERATIONS and QUERN_FUZZ_SEED
    /// run longer or different campaigns.
    @Test func corruptedFilesNeverCrashOrLie() throws {
        let environment = ProcessInfo.processInfo.environment
        let iterations = environment["QUERN_FUZZ_ITERATIONS"].flatMap { Int($0) } ?? 1500
        var random = SeededGenerator(seed: environment["QUERN_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0x5EED_0A0D_10)
        let seeds = try Self.seeds()
        var outcomes: [String: Int] = [:]
        for iteration in 0..<iterations {
            let (name, original) = seeds[iteration % seeds.count]
            let mutated = Self.mutate(original, &random)
            let label = "\(name) mutation #\(iteration)"
            do {
                let audio = try AudioDecoder.decode(mutated, limits: Self.limits)
                outcomes[audio.isComplete ? "decoded" : "partial", default: 0] += 1
            } catch {
                outcomes[error.code, default: 0] += 1
            }
            Self.check(mutated, label: label)
        }
        print("audio fuzz: \(iterations) corrupted files → \(outcomes.sorted { $0.key < $1.key })")
    }

    @Test func randomBytesAreNotAudio() {
        var random = SeededGenerator(seed: 42)
        for length in [1, 3, 4, 11, 12, 44, 100, 1000, 65_536] {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            Self.check(bytes, label: "random \(length) bytes")
            // A RIFF/WAVE prefix on random bytes.
            Self.check(Array("RIFF".utf8) + le32(UInt32(length + 4)) + Array("WAVE".utf8) + bytes, label: "RIFF + \(length)")
        }
    }
}
