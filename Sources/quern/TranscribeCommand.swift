import ArgumentParser
import Foundation
import QuernJSON
import QuernModels
import QuernPipelines
import QuernTensor

/// `quern transcribe`: audio files to transcripts through the transcription
/// pipeline — plain text by default; `--format json` (one JSON line per
/// file: the result's `result` object), `srt`, `vtt` or `text` — or with
/// `--bench` the measurements
/// scripts/bench-whisper.py puts next to faster-whisper's: the encoder's time
/// for one 30 s window, the whole-corpus transcription time (decode, log-mel,
/// encode, decode) as a real-time factor, and the peak resident memory.
struct TranscribeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transcribe", abstract: "Transcribes audio files (Whisper tiny.en by default), or measures transcription with --bench.")

    /// What a transcript is printed as.
    enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
        case text, json, srt, vtt
    }

    @Argument(help: ArgumentHelp("Audio files.", valueName: "file"))
    var files: [String]

    @Option(help: ArgumentHelp("A Whisper model folder (default: the transcribe model in --models, whisper-tiny-en).", valueName: "dir"))
    var model: String?

    @OptionGroup var models: ModelsOption

    @Option(help: ArgumentHelp("How to print each transcript: text (the transcript, one segment per line), json (a JSON line per file), srt or vtt (subtitles).", valueName: "format"))
    var format: OutputFormat = .text

    @Flag(help: "Time every word (as faster-whisper's word_timestamps=True); shown with --format json.")
    var wordTimestamps = false

    @Flag(help: "Measure instead of printing transcripts.")
    var bench = false

    @Option(help: "With --bench: timed passes (after one warm-up); the best is reported.")
    var repetitions = 3

    @Option(help: ArgumentHelp("The encoder's linear layers' precision: float32 or bfloat16 (the decoder keeps its stored weights).", valueName: "precision"))
    var precision: Precision = .float32

    @OptionGroup var compute: ComputeOptions

    func run() throws {
        _ = try compute.prepare()
        guard !files.isEmpty, repetitions >= 1 else { throw ValidationError("give at least one file; --repetitions must be at least 1") }
        let directory = try models.locate(.transcribe, explicitPath: model).declaration.loadPath
        let clock = ContinuousClock()
        let loadStart = clock.now
        let speech = try TranscriptionPipeline(directory: directory, precision: precision)
        let loadSeconds = seconds(clock.now - loadStart)
        let pipeline = AnyPipeline(speech)

        func transcribeAll(print: Bool) throws -> Double {
            var audioSeconds = 0.0
            for file in files {
                let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
                let job = Job(request: .transcribe(audio: bytes, options: TranscriptionOptions(wordTimestamps: wordTimestamps)))
                let prepared = try pipeline.prepareBatch([job]).map { try $0.result.get() }
                let execution = BatchExecution(pipeline: pipeline, batch: prepared, timeout: .seconds(3600))
                guard let results = execution.wait(timeout: .seconds(3600)) else { throw ValidationError("\(file) did not finish") }
                for result in results {
                    guard case let .transcription(output) = try result.get() else { continue }
                    audioSeconds += output.durationSeconds ?? 0
                    if print { printTranscript(output, of: file) }
                }
            }
            return audioSeconds
        }

        guard bench else {
            _ = try transcribeAll(print: true)
            return
        }
        // The encoder's cost does not depend on the sound: one window of a
        // 30 s tone's log-mel.
        let tone = (0..<480_000).map { Float(0.1 * sin(2 * Double.pi * 440 * Double($0) / 16_000)) }
        let window = WhisperLogMel().compute(tone, paddingSamples: 0)
        var encoderBest = Double.infinity
        for repetition in 0...max(repetitions, 5) {
            let start = clock.now
            _ = try speech.transcriber.model.encode(window)
            if repetition > 0 { encoderBest = min(encoderBest, seconds(clock.now - start)) }
        }
        var transcribeBest = Double.infinity
        var audioSeconds = 0.0
        for repetition in 0...repetitions {
            let start = clock.now
            audioSeconds = try transcribeAll(print: false)
            if repetition > 0 { transcribeBest = min(transcribeBest, seconds(clock.now - start)) }
        }
        let report = JSONValue.object([
            ("engine", .string(wordTimestamps ? "quern words" : "quern")), ("model", .string(speech.identity.name)), ("threads", .int(ComputeThreads.count)),
            ("files", .int(files.count)), ("audio_seconds", .double(audioSeconds)),
            ("encoder_30s_ms", .double(encoderBest * 1000)), ("transcribe_seconds", .double(transcribeBest)),
            ("real_time_factor", .double(transcribeBest / max(audioSeconds, 1e-9))), ("peak_rss_mb", .double(Self.peakResidentMegabytes())),
            ("precision", .string(precision.rawValue)), ("load_seconds", .double(loadSeconds)),
            ("linear_weights_mb", .double(Double(speech.transcriber.model.linearWeightBytes) / 1_048_576)),
        ])
        print(JSONWriter.string(report, style: .compact))
    }

    /// One file's transcript in `format`. Several files' subtitles or texts
    /// follow each other, each after a `==> file <==` line (as `head` does).
    private func printTranscript(_ output: TranscriptionOutput, of file: String) {
        let rendering: String
        switch format {
        case .json:
            let line = JSONValue.object([("file", .string(file)), ("result", TaskOutput.transcription(output).json)])
            print(JSONWriter.string(line, style: .compact))
            return
        case .text: rendering = SubtitleFormat.text.render(output.segments)
        case .srt: rendering = SubtitleFormat.srt.render(output.segments)
        case .vtt: rendering = SubtitleFormat.vtt.render(output.segments)
        }
        if files.count > 1 { print("==> \(file) <==") }
        print(rendering, terminator: "")
    }

    /// VmHWM of /proc/self/status (0 where there is no procfs).
    static func peakResidentMegabytes() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
        return kilobytes / 1024
    }

    private func seconds(_ duration: Duration) -> Double {
        let (whole, fraction) = duration.components
        return Double(whole) + Double(fraction) / 1e18
    }
}
