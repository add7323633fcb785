import Foundation
import QuernModels
import QuernTensor
import QuernTestSupport
import Testing

/// Word timestamps of Whisper tiny.en against faster-whisper 1.2.1's
/// `word_timestamps=True` (tools/goldens/make_whisper_word_goldens.py) over
/// the 16 kHz files of the speech corpus: at least 95 % of the words start
/// and end within 0.1 s of faster-whisper's.
@Suite("Whisper word timestamps against faster-whisper", .serialized)
struct WhisperWordTimestampTests {
    static var goldensPath: String { TestPaths.repository + "/Tests/QuernModelTests/Speech/Goldens/whisper_tiny_en_words.json" }

    @Test func wordTimesMatchFasterWhisper() throws {
        let transcriber = try #require(WhisperGoldenTests.transcriber, "models/whisper-tiny-en is missing (scripts/fetch-models.sh)")
        let corpus = try #require(WhisperTestCorpus.folder, "the speech corpus could not be generated (espeak-ng, sox)")
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.goldensPath))
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let files = try #require(root["files"] as? [[String: Any]])
        var compared = 0, within = 0, sameWords = 0, fileCount = 0, sameSegmentFiles = 0
        var errorSum = 0.0, worst = 0.0
        var missing: [String] = []
        for file in files {
            guard let name = file["file"] as? String, let samples = WhisperTestCorpus.exactSamples(corpus + "/" + name) else { continue }
            fileCount += 1
            let transcript = try transcriber.transcribe(features: WhisperGoldenTests.features(samples), wordTimestamps: true)
            let expectedSegments = file["segments"] as? [[String: Any]] ?? []
            // Word timing moves segment bounds (and where unfinished windows
            // resume): the segments must follow faster-whisper's too.
            let sameSegments = transcript.segments.count == expectedSegments.count && zip(transcript.segments, expectedSegments).allSatisfy { ours, theirs in
                ours.tokens == (theirs["tokens"] as? [Int] ?? []) && abs(ours.start - (theirs["start"] as? Double ?? -1)) < 5e-4
                    && abs(ours.end - (theirs["end"] as? Double ?? -1)) < 5e-4
            }
            if sameSegments { sameSegmentFiles += 1 } else { print("segments differ for \(name)") }
            let expected = expectedSegments.flatMap { $0["words"] as? [[String: Any]] ?? [] }
            let ours = transcript.segments.flatMap { $0.words ?? [] }
            #expect(transcript.segments.allSatisfy { $0.words != nil }, "\(name): segments without words")
            if ours.map(\.word) == expected.map({ $0["word"] as? String ?? "" }) {
                sameWords += 1
            } else {
                print("words differ for \(name):\n ours   \(ours.map(\.word).joined(separator: "|"))\n theirs \(expected.map { $0["word"] as? String ?? "" }.joined(separator: "|"))")
            }
            // Words are paired in order; an extra or missing word counts as outside the tolerance.
            let count = max(ours.count, expected.count)
            for index in 0..<count {
                compared += 1
                guard index < ours.count, index < expected.count,
                      let start = expected[index]["start"] as? Double, let end = expected[index]["end"] as? Double else {
                    missing.append("\(name)#\(index)")
                    continue
                }
                let error = max(abs(ours[index].start - start), abs(ours[index].end - end))
                errorSum += error
                worst = max(worst, error)
                if error <= 0.1 + 1e-9 { within += 1 }
            }
        }
        let share = Double(within) / Double(max(compared, 1))
        print("word timestamps: \(within)/\(compared) words (\(String(format: "%.2f", share * 100)) %) within 0.1 s of faster-whisper; mean |Δ| \(String(format: "%.4f", errorSum / Double(max(compared - missing.count, 1)))) s, max |Δ| \(String(format: "%.3f", worst)) s; \(sameWords)/\(fileCount) files with the same words, \(sameSegmentFiles) with the same segments; unpaired \(missing.count)")
        #expect(fileCount >= 20)
        #expect(compared >= 500)
        #expect(share >= 0.95)
        #expect(Double(sameSegmentFiles) >= 0.9 * Double(fileCount))
    }

    @Test func punctuationJoinsItsWord() throws {
        let transcriber = try #require(WhisperGoldenTests.transcriber, "models/whisper-tiny-en is missing (scripts/fetch-models.sh)")
        let corpus = try #require(WhisperTestCorpus.folder, "the speech corpus could not be generated (espeak-ng, sox)")
        let samples = try #require(WhisperTestCorpus.exactSamples(corpus + "/speech01_us_short.wav"))
        let transcript = try transcriber.transcribe(features: WhisperGoldenTests.features(samples), wordTimestamps: true)
        let words = transcript.segments.flatMap { $0.words ?? [] }
        #expect(!words.isEmpty)
        // Words spell the segment's text, punctuation attached to a word.
        #expect(words.map(\.word).joined() == transcript.segments.map(\.text).joined())
        #expect(words.allSatisfy { $0.start <= $0.end && $0.probability > 0 && $0.probability <= 1 })
        #expect(!words.contains { [".", ",", "?", "!"].contains($0.word.trimmingCharacters(in: .whitespaces)) })
    }
}
