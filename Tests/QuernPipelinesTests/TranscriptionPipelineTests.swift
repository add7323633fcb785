import Foundation
import QuernJSON
import QuernMedia
import QuernModels
import QuernPipelines
import QuernTestSupport
import Testing

/// The transcription pipeline end to end on the real tiny.en model.
@Suite("Transcription pipeline (whisper-tiny-en)", .serialized)
struct TranscriptionPipelineTests {
    static let pipeline: Result<TranscriptionPipeline, QuernError> = Result { () throws(QuernError) in
        try TranscriptionPipeline(directory: TestPaths.models + "/whisper-tiny-en")
    }

    static func transcribe(_ request: TaskRequest) async throws -> TranscriptionOutput {
        let pipeline = try pipeline.get()
        let prepared = try pipeline.prepare(Job(request: request))
        let results = try await pipeline.run([prepared], context: PipelineContext(deadline: .now + .seconds(600)))
        guard case let .success(.transcription(output)) = try #require(results.first) else {
            Issue.record("no transcription: \(String(describing: results.first))")
            throw QuernError(.internalError, "no transcription")
        }
        return output
    }

    @Test func speechGivesTextSegmentsEmbeddingAndSubtitles() async throws {
        let corpus = try #require(WhisperTestCorpus.folder, "the speech corpus could not be generated (espeak-ng, sox)")
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: corpus + "/speech20_gb_tiny.wav")))
        let output = try await Self.transcribe(.transcribe(audio: bytes, options: TranscriptionOptions(subtitles: [.srt, .vtt])))
        #expect(output.text.lowercased().contains("good morning"))
        #expect(output.language == "en")
        #expect(!output.segments.isEmpty)
        #expect(output.segments.allSatisfy { $0.start <= $0.end && $0.averageLogProbability != nil && $0.noSpeechProbability != nil })
        #expect(output.embedding?.count == 384)
        #expect(output.embedding?.allSatisfy(\.isFinite) == true)
        let duration = try #require(output.durationSeconds)
        #expect(duration > 1 && duration < 4)
        let srt = try #require(output.subtitles.first { $0.format == "srt" }?.text)
        let vtt = try #require(output.subtitles.first { $0.format == "vtt" }?.text)
        #expect(srt.hasPrefix("1\n00:00:00,000 --> 00:00:0"))
        #expect(vtt.hasPrefix("WEBVTT\n\n00:00:00.000 --> 00:00:0"))
        let json = JSONWriter.string(TaskOutput.transcription(output).json, style: .compact)
        for key in ["\"duration_s\"", "\"avg_logprob\"", "\"no_speech_prob\"", "\"compression_ratio\"", "\"embedding\"", "\"subtitles\""] {
            #expect(json.contains(key), "result JSON lacks \(key)")
        }
    }

    @Test func stereoResampledFileReportsWhatDecodingDid() async throws {
        let corpus = try #require(WhisperTestCorpus.folder)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: corpus + "/fmt_stereo_44100.wav")))
        let output = try await Self.transcribe(.transcribe(audio: bytes))
        #expect(output.text.lowercased().contains("truck"))
        #expect(output.notes.contains { $0.contains("mono") })
        #expect(output.notes.contains { $0.contains("16000") })
        #expect(output.subtitles.isEmpty)
    }

    @Test func silenceGivesNoSegments() async throws {
        let corpus = try #require(WhisperTestCorpus.folder)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: corpus + "/silence_5s.wav")))
        let output = try await Self.transcribe(.transcribe(audio: bytes))
        #expect(output.segments.isEmpty && output.text.isEmpty)
    }

    @Test func undecodableAudioIsAnInputError() throws {
        let pipeline = try Self.pipeline.get()
        let garbage: [UInt8] = Array("RIFF....WAVEfmt this is not audio at all".utf8)
        #expect { _ = try pipeline.prepare(Job(request: .transcribe(audio: garbage))) } throws: { error in
            guard let error = error as? QuernError else { return false }
            return [.inputCorrupt, .inputUnrecognized, .inputEmpty].contains(error.code)
        }
        #expect(throws: QuernError.self) { _ = try pipeline.prepare(Job(request: .transcribe(audio: []), model: "another-model")) }
    }

    @Test func subtitlesFieldIsValidated() throws {
        let audio = Data([1, 2, 3]).base64EncodedString()
        let good = try RequestParser.parse(Array(#"{"task": "transcribe", "input": "\#(audio)", "subtitles": ["vtt", "srt"]}"#.utf8))
        #expect(good.request == .transcribe(audio: [1, 2, 3], options: TranscriptionOptions(subtitles: [.vtt, .srt])))
        let single = try RequestParser.parse(Array(#"{"task": "transcribe", "input": "\#(audio)", "subtitles": "srt"}"#.utf8))
        #expect(single.request == .transcribe(audio: [1, 2, 3], options: TranscriptionOptions(subtitles: [.srt])))
        for bad in [#""subtitles": ["ass"]"#, #""subtitles": ["srt", "srt"]"#, #""subtitles": 3"#] {
            #expect(throws: QuernError.self) { try RequestParser.parse(Array("{\"task\": \"transcribe\", \"input\": \"\(audio)\", \(bad)}".utf8)) }
        }
        #expect(throws: QuernError.self) { try RequestParser.parse(Array(#"{"task": "embed", "input": "x", "subtitles": ["srt"]}"#.utf8)) }
    }

    @Test func subtitleTimestampsRoundToMilliseconds() {
        let segments = [TranscriptionOutput.Segment(start: 3661.2345, end: 3662.5, text: " Hello.")]
        #expect(SubtitleFormat.srt.render(segments) == "1\n01:01:01,235 --> 01:01:02,500\nHello.\n")
        #expect(SubtitleFormat.vtt.render(segments) == "WEBVTT\n\n01:01:01.235 --> 01:01:02.500\nHello.\n")
    }

    @Test func wordTimestampsAndTranscriptFilesAreRequestFields() throws {
        let audio = Data([1, 2, 3]).base64EncodedString()
        let job = try RequestParser.parse(Array(#"{"task": "transcribe", "input": "\#(audio)", "word_timestamps": true, "transcript_files": ["srt", "txt"], "subtitles": "text"}"#.utf8))
        #expect(job.request == .transcribe(audio: [1, 2, 3], options: TranscriptionOptions(subtitles: [.text], wordTimestamps: true, files: [.srt, .text])))
        let plain = try RequestParser.parse(Array(#"{"task": "transcribe", "input": "\#(audio)"}"#.utf8))
        #expect(plain.request == .transcribe(audio: [1, 2, 3], options: TranscriptionOptions(files: nil)), "no transcript_files: the daemon's choice")
        let none = try RequestParser.parse(Array(#"{"task": "transcribe", "input": "\#(audio)", "transcript_files": []}"#.utf8))
        #expect(none.request == .transcribe(audio: [1, 2, 3], options: TranscriptionOptions(files: [])))
        for bad in [#""word_timestamps": "yes""#, #""transcript_files": ["ass"]"#, #""transcript_files": ["srt", "srt"]"#] {
            #expect(throws: QuernError.self) { try RequestParser.parse(Array("{\"task\": \"transcribe\", \"input\": \"\(audio)\", \(bad)}".utf8)) }
        }
        #expect(throws: QuernError.self) { try RequestParser.parse(Array(#"{"task": "chat", "messages": [{"role": "user", "content": "x"}], "word_timestamps": true}"#.utf8)) }
        #expect(SubtitleFormat.list("srt, vtt,txt") == [.srt, .vtt, .text])
        #expect(SubtitleFormat.list("none") == [] && SubtitleFormat.list("") == [])
        #expect(SubtitleFormat.list("srt,srt") == nil && SubtitleFormat.list("ass") == nil)
    }

    @Test func textRenderingIsOneSegmentPerLine() {
        let segments = [TranscriptionOutput.Segment(start: 0, end: 1.5, text: " Hello there."),
                        TranscriptionOutput.Segment(start: 1.5, end: 2.8000000000000003, text: " How are you?")]
        #expect(SubtitleFormat.text.render(segments) == "Hello there.\nHow are you?\n")
        #expect(SubtitleFormat.text.rawValue == "txt" && SubtitleFormat(name: "text") == .text)
    }

    @Test func resultTimesAreRoundedToTheMillisecond() {
        let word = TranscriptionOutput.Word(word: " you?", start: 2.1399999999999997, end: 2.8000000000000003, probability: 0.5)
        let output = TranscriptionOutput(
            text: "How are you?", segments: [TranscriptionOutput.Segment(start: 0.30000000000000004, end: 2.8000000000000003, text: " How are you?", words: [word])],
            language: "en", durationSeconds: 2.8000000000000003)
        let json = String(decoding: JSONWriter.bytes(TaskOutput.transcription(output).json, style: .compact), as: UTF8.self)
        #expect(!json.contains("0000000"), "\(json)")
        #expect(json.contains(#""start":0.3"#) && json.contains(#""end":2.8"#) && json.contains(#""start":2.14"#) && json.contains(#""duration_s":2.8"#), "\(json)")
        #expect(json.contains(#""words":[{"word":" you?""#), "\(json)")
    }

    @Test func wordTimestampsNeedTheModelsAlignmentHeads() throws {
        let source = TestPaths.models + "/whisper-tiny-en"
        try #require(FileManager.default.fileExists(atPath: source + "/model.bin"), "models/whisper-tiny-en is missing (scripts/fetch-models.sh)")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("quern-whisper-no-heads-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for name in ["model.bin", "tokenizer.json", "vocabulary.txt"] {
            try FileManager.default.createSymbolicLink(atPath: folder.path + "/" + name, withDestinationPath: source + "/" + name)
        }
        var config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: source + "/config.json"))) as? [String: Any])
        config["alignment_heads"] = nil
        try JSONSerialization.data(withJSONObject: config).write(to: folder.appendingPathComponent("config.json"))
        let pipeline = try TranscriptionPipeline(directory: folder.path)
        #expect { _ = try pipeline.prepare(Job(request: .transcribe(audio: Fixtures.wav(), options: TranscriptionOptions(wordTimestamps: true)))) } throws: { error in
            (error as? QuernError)?.code == .requestInvalidValue && (error as? QuernError)?.message.contains("alignment_heads") == true
        }
        // Without word timestamps the folder transcribes as before.
        _ = try pipeline.prepare(Job(request: .transcribe(audio: Fixtures.wav())))
    }
}
