import Foundation
import QuernMedia
import QuernModels
import QuernTensor
import QuernTestSupport
import Testing

/// Whisper tiny.en (CTranslate2 model.bin) against faster-whisper 1.2.1 /
/// CTranslate2 4.8.5 goldens (tools/goldens/make_whisper_goldens.py) over the
/// generated speech corpus; the SRT and WebVTT of the transcripts are read
/// back by subtitle parsers (SubtitleParserTests).
@Suite("Whisper tiny.en goldens against faster-whisper", .serialized)
struct WhisperGoldenTests {
    static var modelFolder: String { TestPaths.models + "/whisper-tiny-en" }
    static var goldensPath: String { TestPaths.repository + "/Tests/QuernModelTests/Speech/Goldens/whisper_tiny_en.json" }
    static let transcriber: WhisperTranscriber? = try? WhisperTranscriber.load(directory: modelFolder)

    struct Golden {
        let root: [String: Any]
        var files: [[String: Any]] { root["files"] as? [[String: Any]] ?? [] }
        init() throws {
            let data = try Data(contentsOf: URL(fileURLWithPath: WhisperGoldenTests.goldensPath))
            root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        }
    }

    static func features(_ samples: [Float]) -> Tensor {
        WhisperLogMel().compute(samples, paddingSamples: 160)
    }

    @Test func encoderMatchesCTranslate2() throws {
        let transcriber = try #require(Self.transcriber, "models/whisper-tiny-en is missing (scripts/fetch-models.sh)")
        let corpus = try #require(WhisperTestCorpus.folder, "the speech corpus could not be generated (espeak-ng, sox)")
        var checked = 0
        for file in try Golden().files {
            guard let encoder = file["encoder"] as? [String: Any], let name = file["file"] as? String,
                  let samples = WhisperTestCorpus.exactSamples(corpus + "/" + name) else { continue }
            let features = Self.features(samples)
            let frames = min(3000, features.shape[1] - 1)
            let window = Tensor(zeros: [80, 3000])
            let part = features.columns(0..<frames)
            for bin in 0..<80 { window.row(bin).rows(0..<frames).assign(part.row(bin)) }
            let states = try transcriber.model.encode(window)
            var worst: Float = 0
            for (index, values) in encoder["frames"] as? [String: [Double]] ?? [:] {
                let row = states.row(Int(index)!).scalars
                worst = max(worst, maxDifference(row, values.map { Float($0) }))
            }
            let summary = try #require(encoder["summary"] as? [String: Any])
            let meanAbs = (summary["mean_abs"] as! NSNumber).doubleValue
            let ours = states.scalars.reduce(0.0) { $0 + Double(abs($1)) } / Double(states.count)
            print("encoder \(name): max |Δ| over stored frames \(worst), mean |x| \(ours) vs \(meanAbs)")
            #expect(worst < 1e-3, "\(name): encoder differs by \(worst)")
            #expect(abs(ours - meanAbs) < 1e-4)
            checked += 1
        }
        #expect(checked >= 3)
    }

    @Test func transcriptsMatchFasterWhisper() throws {
        let transcriber = try #require(Self.transcriber, "models/whisper-tiny-en is missing (scripts/fetch-models.sh)")
        let corpus = try #require(WhisperTestCorpus.folder, "the speech corpus could not be generated (espeak-ng, sox)")
        var exactFiles = 0, identical = 0
        var referenceEdits = 0, ourEdits = 0, words = 0
        let subtitles = try SubtitleParserTests.Collector()
        for file in try Golden().files {
            guard let name = file["file"] as? String else { continue }
            let isExact = file["exact_16k"] as? Bool == true
            // 16 kHz files are fed as the goldens fed them; the other formats
            // go through Quern's decoder and count towards the word error rate.
            let samples: [Float]
            if isExact, let exact = WhisperTestCorpus.exactSamples(corpus + "/" + name) {
                samples = exact
            } else if !isExact, let decoded = try? AudioDecoder.decode([UInt8](Data(contentsOf: URL(fileURLWithPath: corpus + "/" + name))), limits: .standard) {
                samples = decoded.samples
            } else {
                Issue.record("\(name) cannot be read")
                continue
            }
            let transcript = try transcriber.transcribe(features: Self.features(samples))
            if !isExact {
                if let spoken = file["spoken"] as? String, !spoken.isEmpty {
                    let reference = WordErrorRate.normalise(spoken)
                    words += reference.count
                    ourEdits += WordErrorRate.edits(reference, WordErrorRate.normalise(transcript.text))
                    referenceEdits += WordErrorRate.edits(reference, WordErrorRate.normalise(file["text"] as? String ?? ""))
                }
                continue
            }
            let expectedSegments = file["segments"] as? [[String: Any]] ?? []
            let expectedTokens = expectedSegments.map { ($0["tokens"] as? [Int]) ?? [] }
            let ourTokens = transcript.segments.map(\.tokens)
            exactFiles += 1
            if ourTokens == expectedTokens {
                identical += 1
                if !expectedSegments.isEmpty { try subtitles.add(name, segments: transcript.segments, reference: expectedSegments) }
                for (segment, expected) in zip(transcript.segments, expectedSegments) {
                    #expect(abs(segment.start - (expected["start"] as! Double)) < 1e-6 && abs(segment.end - (expected["end"] as! Double)) < 1e-6, "\(name) times")
                    #expect(abs(segment.averageLogProbability - (expected["avg_logprob"] as! Double)) < 2e-3, "\(name) avg_logprob")
                    #expect(abs(segment.noSpeechProbability - (expected["no_speech_prob"] as! Double)) < 2e-3, "\(name) no_speech_prob")
                    #expect(abs(segment.compressionRatio - (expected["compression_ratio"] as! Double)) < 1e-9, "\(name) compression ratio")
                    #expect(segment.text == expected["text"] as? String, "\(name) text")
                }
            } else {
                print("tokens differ for \(name):\n ours   \(transcript.text)\n theirs \(file["text"] as? String ?? "")")
            }
            if let spoken = file["spoken"] as? String, !spoken.isEmpty {
                let reference = WordErrorRate.normalise(spoken)
                words += reference.count
                ourEdits += WordErrorRate.edits(reference, WordErrorRate.normalise(transcript.text))
                referenceEdits += WordErrorRate.edits(reference, WordErrorRate.normalise(file["text"] as? String ?? ""))
            }
        }
        let ourWER = Double(ourEdits) / Double(max(words, 1)), referenceWER = Double(referenceEdits) / Double(max(words, 1))
        print("whisper goldens: \(identical)/\(exactFiles) 16 kHz files with identical token ids; WER over every file with speech \(ourWER) vs faster-whisper \(referenceWER)")
        #expect(exactFiles >= 20)
        #expect(Double(identical) >= 0.9 * Double(exactFiles))
        // Their SRT and WebVTT parse with PyPI's srt and webvtt-py, and the
        // cues are faster-whisper's segments to the millisecond.
        let parsed = try subtitles.check()
        print("subtitle parsers: \(parsed.report)")
        #expect(parsed.passed, "\(parsed.report)")
        #expect(subtitles.expected.count >= 18)
        #expect(ourWER <= referenceWER + 0.01)
    }
}
