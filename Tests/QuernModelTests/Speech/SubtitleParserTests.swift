import Foundation
import QuernModels
import QuernPipelines
import QuernTestSupport
import Testing

/// The SRT and WebVTT Quern writes for the speech corpus, read back by the
/// subtitle parsers people use (PyPI's `srt` and `webvtt-py`, installed by
/// scripts/install-deps.sh): every file parses, and its cues are
/// faster-whisper's segments (Goldens/whisper_tiny_en.json) — the same
/// text, and the same start and end to the millisecond.
/// The check runs inside `WhisperGoldenTests.transcriptsMatchFasterWhisper`,
/// on the transcriptions it makes.
enum SubtitleParserTests {
    static let checker = #"""
        import json, os, sys
        try:
            import srt, webvtt
        except ImportError as error:
            print(f"python3 module missing: {error.name} (scripts/install-deps.sh installs srt and webvtt-py)"); sys.exit(2)

        def vtt_ms(text):
            hours, minutes, rest = text.split(":")
            seconds, millis = rest.split(".")
            return ((int(hours) * 60 + int(minutes)) * 60 + int(seconds)) * 1000 + int(millis)

        folder = sys.argv[1]
        expected = json.load(open(os.path.join(folder, "expected.json")))
        problems = cues = 0
        for name, segments in expected.items():
            want = [(round(s["start"] * 1000), round(s["end"] * 1000), s["text"].strip()) for s in segments]
            parsed = list(srt.parse(open(os.path.join(folder, name + ".srt"), encoding="utf-8").read()))
            got_srt = [(round(c.start.total_seconds() * 1000), round(c.end.total_seconds() * 1000), c.content) for c in parsed]
            got_vtt = [(vtt_ms(c.start), vtt_ms(c.end), c.text) for c in webvtt.read(os.path.join(folder, name + ".vtt"))]
            for label, got in (("srt", got_srt), ("vtt", got_vtt)):
                if got != want:
                    problems += 1
                    print(f"{name} {label}: {got} != {want}")
            cues += len(want)
        print(f"{len(expected)} files, {cues} cues, {problems} mismatches")
        sys.exit(1 if problems else 0)
        """#

    /// Collects the SRT and WebVTT of the files a test transcribed, with
    /// faster-whisper's segments for each, then checks them all with one
    /// python3 run (WhisperGoldenTests feeds it the transcriptions it makes
    /// anyway, so the corpus is transcribed once).
    final class Collector {
        let folder: URL
        var expected: [String: Any] = [:]

        init() throws {
            folder = FileManager.default.temporaryDirectory.appendingPathComponent("quern-subtitles-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        }

        deinit { try? FileManager.default.removeItem(at: folder) }

        /// `segments`: ours; `reference`: faster-whisper's segment objects of the golden.
        func add(_ name: String, segments: [WhisperSegment], reference: [[String: Any]]) throws {
            let ours = segments.map { TranscriptionOutput.Segment(start: $0.start, end: $0.end, text: $0.text) }
            try Data(SubtitleFormat.srt.render(ours).utf8).write(to: folder.appendingPathComponent(name + ".srt"))
            try Data(SubtitleFormat.vtt.render(ours).utf8).write(to: folder.appendingPathComponent(name + ".vtt"))
            expected[name] = reference.map { ["start": $0["start"] ?? 0, "end": $0["end"] ?? 0, "text": $0["text"] ?? ""] }
        }

        /// Runs the parsers: whether every file parsed and matched, and their report.
        func check() throws -> (passed: Bool, report: String) {
            try JSONSerialization.data(withJSONObject: expected).write(to: folder.appendingPathComponent("expected.json"))
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", "-c", SubtitleParserTests.checker, folder.path]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = output
            try process.run()
            let report = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return (process.terminationStatus == 0, report)
        }
    }
}
