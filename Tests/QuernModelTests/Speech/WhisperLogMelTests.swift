import Foundation
import QuernFormats
import QuernMedia
@testable import QuernModels
import QuernTensor
import Testing
import QuernTestSupport

/// Whisper's log-mel against the whisper-tiny-random fixture (Hugging Face's
/// extractor, 30 s padding) and against faster-whisper 1.2.1's
/// FeatureExtractor on the generated speech corpus.
@Suite("Whisper log-mel")
struct WhisperLogMelTests {
    static var fixtures: String {
        TestPaths.fixtures
    }
    static let goldensPath = TestPaths.inRepository("Tests/QuernMediaTests/Goldens/audio-goldens.json")

    static func fixtureTensor(_ name: String) throws -> (shape: [Int], values: [Float]) {
        let file = try SafetensorsFile(path: fixtures + "/whisper-tiny-random/inputs.safetensors")
        let tensor = try #require(file.tensors.first { $0.name == name }, "\(name) missing")
        let values = (0..<(tensor.bytes.count / 4)).map { tensor.bytes.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) }
        return (tensor.shape, values)
    }

    @Test func melFiltersMatchTheFixture() throws {
        let (shape, expected) = try Self.fixtureTensor("mel_filters")      // [201, 80]
        #expect(shape == [201, 80])
        let filters = WhisperLogMel().filters.scalars                       // [80, 201]
        var largest: Float = 0
        for bin in 0..<201 {
            for mel in 0..<80 { largest = max(largest, abs(filters[mel * 201 + bin] - expected[bin * 80 + mel])) }
        }
        print("log-mel filters vs fixture mel_filters: max |Δ| = \(largest)")
        #expect(largest < 1e-7)
    }

    @Test func chirpMatchesTheFixture() throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.fixtures + "/whisper-tiny-random/chirp_2s_16k.wav")))
        let audio = try AudioDecoder.decode(bytes, limits: .standard)
        #expect(audio.samples.count == 32_000 && audio.notes.isEmpty)
        let mel = WhisperLogMel()
        let features = mel.compute(audio.samples, paddingSamples: 480_000 - audio.samples.count)
        #expect(features.shape == [80, 3000])
        let (_, head) = try Self.fixtureTensor("input_features_head")        // [1, 80, 256]
        let values = features.scalars
        var largestHead: Float = 0, largestPad: Float = 0
        let padValue: Float = -0.5498104
        for band in 0..<80 {
            for frame in 0..<3000 {
                let ours = values[band * 3000 + frame]
                if frame < 256 {
                    largestHead = max(largestHead, abs(ours - head[band * 256 + frame]))
                } else {
                    largestPad = max(largestPad, abs(ours - padValue))
                }
            }
        }
        print("log-mel chirp vs fixture: head max |Δ| = \(largestHead), pad frames max |Δ| = \(largestPad)")
        #expect(largestHead < 2e-4)
        #expect(largestPad < 2e-4)
    }

    /// faster-whisper's FeatureExtractor as transcribe() calls it (padding=160)
    /// on every 16 kHz corpus file: three whole frames, the per-band means over
    /// all frames, and the global maximum, within 2e-4.
    @Test func corpusMatchesFasterWhisper() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.goldensPath))
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let files = try #require(root["files"] as? [String: Any])
        let mel = WhisperLogMel()
        var checked = 0
        var worstFrame: (Float, String) = (0, ""), worstMean: (Float, String) = (0, "")
        for entry in try SpeechCorpus.manifest() {
            guard let golden = files[entry.file] as? [String: Any], let summary = golden["mel"] as? [String: Any] else { continue }
            let audio = try AudioDecoder.decode(try SpeechCorpus.bytes(entry.file), limits: .standard)
            guard audio.source.sampleRate == 16_000, entry.kind != "truncated" else { continue }
            // faster-whisper rounds every decode to int16: exact only for mono
            // 8/16-bit sources (a stereo mean is a half-integer it rounds).
            guard audio.source.channels == 1,
                  audio.source.encoding.contains("16 bit") || audio.source.encoding.contains("8 bit") else { continue }
            let features = mel.compute(audio.samples, paddingSamples: 160)
            let frames = features.shape[1]
            #expect(summary["shape"] as? [Int] == [80, frames], "\(entry.file)")
            #expect(mel.contentFrames(sampleCount: audio.samples.count) == summary["content_frames"] as? Int)
            let values = features.scalars
            for (key, expected) in (summary["frames"] as? [String: Any]) ?? [:] {
                guard let frame = Int(key) else { continue }
                let reference = (expected as? [Any])?.compactMap { ($0 as? NSNumber)?.floatValue } ?? []
                #expect(reference.count == 80)
                for band in 0..<min(80, reference.count) {
                    let difference = abs(values[band * frames + frame] - reference[band])
                    if difference > worstFrame.0 { worstFrame = (difference, "\(entry.file) frame \(frame)") }
                }
            }
            let means = (summary["band_means"] as? [Any])?.compactMap { ($0 as? NSNumber)?.floatValue } ?? []
            #expect(means.count == 80)
            for band in 0..<min(80, means.count) {
                var sum = 0.0
                for frame in 0..<frames { sum += Double(values[band * frames + frame]) }
                let difference = abs(Float(sum / Double(frames)) - means[band])
                if difference > worstMean.0 { worstMean = (difference, "\(entry.file) band \(band)") }
            }
            let maximum = values.max() ?? 0
            #expect(abs(Double(maximum) - ((summary["max"] as? NSNumber)?.doubleValue ?? .nan)) < 2e-4, "\(entry.file)")
            checked += 1
        }
        print("log-mel vs faster-whisper over \(checked) files: worst frame value |Δ| = \(worstFrame.0) (\(worstFrame.1)), worst band mean |Δ| = \(worstMean.0) (\(worstMean.1))")
        #expect(checked >= 27)
        #expect(worstFrame.0 < 2e-4)
        #expect(worstMean.0 < 2e-4)
    }

    /// The folded DFT against the plain one, edge frames included.
    @Test func foldedAndDirectDFTAgree() {
        let samples = (0..<16_123).map { Float(sin(Double($0) * 0.013) * 0.4 + cos(Double($0) * 1.9) * 0.1) }
        let folded = WhisperLogMel().compute(samples, paddingSamples: 160).scalars
        let direct = WhisperLogMel(melBins: 80, sampleRate: 16_000, fftSize: 400, hopLength: 160, method: .direct)
            .compute(samples, paddingSamples: 160).scalars
        #expect(folded.count == direct.count)
        let largest = zip(folded, direct).map { abs($0 - $1) }.max() ?? .infinity
        #expect(largest < 1e-4, "folded vs direct DFT: \(largest)")
    }

    @Test func windowsAreSlicedAsFasterWhisperDoes() {
        let mel = WhisperLogMel()
        let samples = (0..<(16_000 * 35)).map { Float(sin(Double($0) * 0.05)) * 0.1 }
        let features = mel.compute(samples, paddingSamples: 160)
        let content = mel.contentFrames(sampleCount: samples.count)
        #expect(features.shape == [80, content + 1] && content == 3500)
        let second = mel.window(features, seek: 3000, contentFrames: content)
        #expect(second.shape == [80, 3000])
        let values = second.scalars, all = features.scalars
        #expect(values[0] == all[3000] && values[499] == all[3499])
        #expect(values[500] == 0 && values[2999] == 0)          // pad_or_trim pads with zeros
        #expect(values[3000 + 17] == all[(features.shape[1]) + 3017])
    }

    @Test func shortAndEmptySignals() {
        let mel = WhisperLogMel()
        #expect(mel.compute([], paddingSamples: 0).shape == [80, 0])
        let silent = mel.compute([], paddingSamples: 160)
        #expect(silent.shape == [80, 1] && silent.scalars.allSatisfy { $0 == -1.5 })
        // Shorter than the reflect padding: numpy keeps reflecting.
        let tiny = mel.compute([0.5, -0.25, 0.125], paddingSamples: 160)
        #expect(tiny.shape == [80, 1] && tiny.scalars.allSatisfy { $0.isFinite })
    }
}
