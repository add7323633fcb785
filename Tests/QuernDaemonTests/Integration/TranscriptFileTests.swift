import Foundation
import QuernTestSupport
import Testing

/// Transcript sidecar files (`--transcript-files`, a request's or a folder's
/// `transcript_files`) written beside the JSON result by a real `quern
/// serve`, and what recovery does with their temp files after a crash.
extension Integration {
    @Suite struct TranscriptFiles {
        static var models: String { TestPaths.models }

        /// Every visible file of the outbox itself (results and sidecars).
        static func files(_ scratch: Scratch) -> Set<String> {
            var isFolder: ObjCBool = false
            return Set(scratch.entries(scratch.outbox).filter {
                !$0.hasPrefix(".") && !(FileManager.default.fileExists(atPath: scratch.outbox.path + "/" + $0, isDirectory: &isFolder) && isFolder.boolValue)
            })
        }

        /// Runs `quern <arguments>` without the caller's QUERN_ variables; its
        /// standard output alone (logs go to standard error).
        static func quern(_ arguments: [String]) throws -> (status: Int32, output: String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: try QuernBinary.path)
            process.arguments = arguments
            process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("QUERN_") }
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (process.terminationStatus, String(decoding: data, as: UTF8.self))
        }

        static func text(_ scratch: Scratch, _ path: String) -> String? {
            FileManager.default.contents(atPath: scratch.outbox.path + "/" + path).map { String(decoding: $0, as: UTF8.self) }
        }

        @Test func recordingsGetTheirSidecarsBesideTheResult() throws {
            try #require(FileManager.default.fileExists(atPath: Self.models + "/whisper-tiny-en/model.bin"), "the speech model is missing: run scripts/fetch-models.sh")
            let corpus = try #require(WhisperTestCorpus.folder, "the speech corpus could not be generated (espeak-ng, sox)")
            let speech = [UInt8](try Data(contentsOf: URL(fileURLWithPath: corpus + "/speech01_us_short.wav")))
            let scratch = try Scratch()
            let daemon = try DaemonProcess(scratch: scratch, arguments: ["--models", Self.models, "--settle", "0.2", "--transcript-files", "srt,vtt,txt"],
                                           diagnostic: false)
            #expect(daemon.waitUntilServing(timeout: 120), "\(daemon.log)")
            // A folder that asks for its own files (text only) and word timestamps.
            try Data(#"{"transcript_files": "txt", "word_timestamps": true}"#.utf8)
                .write(to: scratch.inbox.appendingPathComponent("transcribe/.quern-defaults.json"))

            try scratch.drop("talk.wav", speech)
            #expect(scratch.waitUntil(timeout: 60) { scratch.resultNames().contains("talk.wav.json") }, "\(daemon.log)")
            try scratch.drop("talk.wav", speech)
            try scratch.drop("routed.wav", into: "transcribe", speech)
            try scratch.drop("quiet.json", Array(#"{"task": "transcribe", "input": "\#(Data(speech).base64EncodedString())", "transcript_files": []}"#.utf8))
            #expect(scratch.waitUntil(timeout: 90) {
                scratch.resultNames().contains("talk.wav.1.json") && scratch.resultNames().contains("quiet.json.json")
                    && scratch.routedResult("routed.wav.json", in: "transcribe") != nil
            }, "\(daemon.log)")
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 30) == 0)

            let names = Self.files(scratch)
            #expect(names.isSuperset(of: ["talk.wav.json", "talk.wav.srt", "talk.wav.vtt", "talk.wav.txt",
                                          "talk.wav.1.json", "talk.wav.1.srt", "talk.wav.1.vtt", "talk.wav.1.txt", "quiet.json.json"]), "\(names)")
            #expect(!names.contains { $0.hasPrefix("quiet.json.") && !$0.hasSuffix(".json") }, "transcript_files [] writes none: \(names)")
            let result = try scratch.result("talk.wav.json")
            #expect(status(result) == "ok", "\(result)")
            let body = try #require(result["result"] as? [String: Any])
            let segments = try #require(body["segments"] as? [[String: Any]])
            try #require(!segments.isEmpty)
            let srt = try #require(Self.text(scratch, "talk.wav.srt"))
            let vtt = try #require(Self.text(scratch, "talk.wav.vtt"))
            let txt = try #require(Self.text(scratch, "talk.wav.txt"))
            #expect(srt.hasPrefix("1\n00:00:0"), "\(srt)")
            #expect(vtt.hasPrefix("WEBVTT\n\n00:00:0"), "\(vtt)")
            let lines = segments.map { ($0["text"] as? String ?? "").trimmingCharacters(in: .whitespaces) }
            #expect(txt == lines.map { $0 + "\n" }.joined())
            for line in lines { #expect(srt.contains(line) && vtt.contains(line)) }
            // Times in the JSON are whole milliseconds.
            for segment in segments {
                for key in ["start", "end"] {
                    let value = try #require(segment[key] as? Double)
                    #expect(abs(value * 1000 - (value * 1000).rounded()) < 1e-6, "\(key) \(value)")
                }
            }
            #expect(segments.allSatisfy { $0["words"] == nil }, "no words unless asked")

            // The folder's defaults: text only, with words.
            let outboxFolder = scratch.outbox.appendingPathComponent("transcribe")
            let routedNames = Set(scratch.entries(outboxFolder))
            #expect(routedNames == ["routed.wav.json", "routed.wav.txt"], "\(routedNames)")
            let routed = try #require(scratch.routedResult("routed.wav.json", in: "transcribe"))
            let routedSegments = try #require((routed["result"] as? [String: Any])?["segments"] as? [[String: Any]])
            let words = routedSegments.flatMap { $0["words"] as? [[String: Any]] ?? [] }
            #expect(!words.isEmpty, "\(routed)")
            #expect(words.allSatisfy { $0["word"] is String && $0["start"] is Double && $0["end"] is Double && $0["probability"] is Double })
            #expect(scratch.temporaryResults.isEmpty)
            #expect(try SchemaValidator.problems(in: [scratch.outbox.path, outboxFolder.path]) == nil)
        }

        /// The crash states sidecars add, built by hand: temp sidecars with a
        /// written marker are published with their result; without it they
        /// are deleted and the input runs again; orphans are removed.
        @Test func recoveryPublishesOrDeletesSidecarTemps() throws {
            let scratch = try Scratch()
            let fileManager = FileManager.default
            func claim(_ id: String, input: String, markers: [String]) throws {
                let directory = scratch.work.appendingPathComponent(id)
                try fileManager.createDirectory(at: directory, withIntermediateDirectories: true)
                try Data("contents of \(input)\n".utf8).write(to: directory.appendingPathComponent(input))
                for marker in markers { _ = fileManager.createFile(atPath: directory.appendingPathComponent(marker).path, contents: nil) }
            }
            func temp(_ name: String, _ text: String) throws { try Data(text.utf8).write(to: scratch.outbox.appendingPathComponent(name)) }
            try claim("0a-000011", input: "written.wav", markers: [".written-ok"])
            let prewritten = #"{"schema_version":1,"quern_version":"0.1.0","claim_id":"0a-000011","created":"2026-01-01T00:00:00.000Z","input":{"name":"written.wav","size":1,"sha256":null,"kind":"audio"},"task":"transcribe","status":"ok","error":null,"model":{"name":"quern-diagnostic","sha256":null},"result":{"diagnostic":{"bytes":1}},"timings":{"queued_ms":0,"decode_ms":0,"inference_ms":0,"total_ms":0}}"#
            try temp(".quern-0a-000011.tmp", prewritten)
            try temp(".quern-0a-000011.srt.tmp", "1\n00:00:00,000 --> 00:00:01,000\nHello.\n")
            try temp(".quern-0a-000011.txt.tmp", "Hello.\n")
            try claim("0a-000012", input: "unwritten.txt", markers: [])
            try temp(".quern-0a-000012.vtt.tmp", "WEBVTT\n\nhalf")
            try temp(".quern-0b-000019.srt.tmp", "orphan")

            let daemon = try DaemonProcess(scratch: scratch)
            #expect(daemon.waitUntilServing(), "\(daemon.log)")
            #expect(scratch.waitUntil(timeout: 20) { scratch.resultNames().count == 2 && scratch.entries(scratch.work).isEmpty }, "\(daemon.log)")
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 10) == 0)

            #expect(Self.files(scratch) == ["written.wav.json", "written.wav.srt", "written.wav.txt", "unwritten.txt.json"], "\(Self.files(scratch))")
            #expect(Self.text(scratch, "written.wav.txt") == "Hello.\n")
            #expect(Self.text(scratch, "written.wav.srt") == "1\n00:00:00,000 --> 00:00:01,000\nHello.\n")
            #expect(scratch.temporaryResults.isEmpty, "\(scratch.temporaryResults.map { String(decoding: $0, as: UTF8.self) })")
        }

        /// `quern transcribe FILE`: plain text by default, `--format
        /// json|srt|vtt|text`, `--word-timestamps`.
        @Test func transcribeCommandPrintsEachFormat() throws {
            try #require(FileManager.default.fileExists(atPath: Self.models + "/whisper-tiny-en/model.bin"), "the speech model is missing: run scripts/fetch-models.sh")
            let corpus = try #require(WhisperTestCorpus.folder, "the speech corpus could not be generated (espeak-ng, sox)")
            let file = corpus + "/speech01_us_short.wav"
            let base = ["transcribe", "--models", Self.models, "--threads", "2"]
            let plain = try Self.quern(base + [file])
            #expect(plain.status == 0, "\(plain.output)")
            let json = try Self.quern(base + ["--format", "json", "--word-timestamps", file])
            #expect(json.status == 0, "\(json.output)")
            let line = try #require(json.output.split(separator: "\n").last(where: { $0.hasPrefix("{") }))
            let document = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let result = try #require(document["result"] as? [String: Any])
            let segments = try #require(result["segments"] as? [[String: Any]])
            try #require(!segments.isEmpty)
            #expect(segments.allSatisfy { !($0["words"] as? [Any] ?? []).isEmpty }, "\(segments)")
            let texts = segments.map { ($0["text"] as? String ?? "").trimmingCharacters(in: .whitespaces) }
            #expect(plain.output == texts.map { $0 + "\n" }.joined(), "\(plain.output)")
            let text = try Self.quern(base + ["--format", "text", file])
            #expect(text.output == plain.output)
            let srt = try Self.quern(base + ["--format", "srt", file])
            #expect(srt.status == 0 && srt.output.hasPrefix("1\n00:00:") && srt.output.contains(" --> "), "\(srt.output)")
            let vtt = try Self.quern(base + ["--format", "vtt", file])
            #expect(vtt.status == 0 && vtt.output.hasPrefix("WEBVTT\n\n00:00:"), "\(vtt.output)")
            for line in texts { #expect(srt.output.contains(line) && vtt.output.contains(line)) }
            let bad = try Self.quern(base + ["--format", "ass", file])
            #expect(bad.status != 0)
        }
    }
}
