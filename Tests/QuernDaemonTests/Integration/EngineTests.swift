import Foundation
import QuernTestSupport
import Testing

/// Lanes, start and progress lines, cancellation, timeouts that keep partial
/// output, the status file and `quern status` / `quern cancel`, on a real
/// `quern serve` process.
extension Integration {
    @Suite struct Engine {
        /// A job that runs until it is stopped (the diagnostic pipeline sleeps
        /// up to an hour, reporting a progress step a second).
        static let hanging = Array("quern-diagnostic:hang\n".utf8)

        /// Runs `quern <arguments>` (not `run`), without the caller's QUERN_ variables.
        static func quern(_ arguments: [String]) throws -> (status: Int32, output: String) {
            try ChildProcess.run(try QuernBinary.path, arguments, environment: ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("QUERN_") })
        }

        static func statusFile(_ scratch: Scratch) -> [String: Any]? {
            guard let data = FileManager.default.contents(atPath: scratch.inbox.path + "/.quern/status.json") else { return nil }
            return try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        }

        /// The claim directory in the work area holding input `name`.
        static func claimDirectory(_ scratch: Scratch, holding name: String) -> URL? {
            for id in scratch.entries(scratch.work) where !id.hasPrefix(".") {
                let directory = scratch.work.appendingPathComponent(id)
                if FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path) { return directory }
            }
            return nil
        }

        @Test func aLongJobOnOneLaneDoesNotDelayTheOthersAndIsWatchedAndCancelled() throws {
            let scratch = try Scratch()
            let daemon = try DaemonProcess(scratch: scratch, arguments: ["--timeout", "120", "--settle", "0.2"])
            #expect(daemon.waitUntilServing(), "\(daemon.log)")

            // The chat lane is busy for as long as the job runs.
            try scratch.drop("long.txt", Self.hanging)
            #expect(scratch.waitUntil(timeout: 10) { daemon.log.contains("msg=started") && daemon.log.contains("name=long.txt") }, "\(daemon.log)")
            let started = daemon.log.split(separator: "\n").first { $0.contains("msg=started") && $0.contains("name=long.txt") }.map(String.init) ?? ""
            for field in ["kind=text", "task=chat", "model=quern-diagnostic", "lane=quern-diagnostic-chat", "queued_ms="] {
                #expect(started.contains(field), "\(field) in \(started)")
            }

            // Other models' lanes carry on meanwhile.
            try scratch.drop("picture.png", Fixtures.png())
            try scratch.drop("vectors.json", Array(#"{"task": "embed", "input": ["one", "two"]}"#.utf8))
            #expect(scratch.waitUntil(timeout: 10) { scratch.resultCount == 2 }, "\(daemon.log)")
            var results = try scratch.resultsByInput()
            #expect(status(results["picture.png"]) == "ok" && status(results["vectors.json"]) == "ok")
            #expect(results["long.txt"] == nil, "the long job is still running")

            // Progress lines once it has run for a few seconds.
            #expect(scratch.waitUntil(timeout: 10) { daemon.log.contains("msg=working") }, "\(daemon.log)")
            let working = daemon.log.split(separator: "\n").first { $0.contains("msg=working") }.map(String.init) ?? ""
            #expect(working.contains("name=long.txt") && working.contains("elapsed_s=") && working.contains("of 3600"), "\(working)")

            // The status file, and quern status reading it.
            #expect(scratch.waitUntil(timeout: 5) { ((Self.statusFile(scratch)?["running_jobs"] as? [[String: Any]]) ?? []).count == 1 })
            let document = try #require(Self.statusFile(scratch))
            #expect(document["pid"] as? Int == Int(daemon.pid) && document["state"] as? String == "running")
            #expect(document["files_done"] as? Int == 2 && document["files_failed"] as? Int == 0)
            let running = try #require((document["running_jobs"] as? [[String: Any]])?.first)
            #expect(running["name"] as? String == "long.txt" && running["lane"] as? String == "quern-diagnostic-chat")
            #expect((running["elapsed_s"] as? Double ?? 0) > 0 && (running["progress"] as? [String: Any])?["unit"] as? String == "second")
            let lanes = (document["lanes"] as? [[String: Any]]) ?? []
            #expect(lanes.contains { $0["name"] as? String == "quern-diagnostic-classify" }, "\(lanes)")
            let human = try Self.quern(["status", "--inbox", scratch.inbox.path])
            #expect(human.status == 0, "\(human.output)")
            for fragment in ["pid \(daemon.pid)", "up since", "long.txt", "quern-diagnostic-chat", "2 done, 0 failed", "resident"] {
                #expect(human.output.contains(fragment), "\(fragment) in\n\(human.output)")
            }
            let json = try Self.quern(["status", "--inbox", scratch.inbox.path, "--json"])
            let parsed = try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any]
            #expect(parsed?["running"] as? Bool == true, "\(json.output)")

            // quern cancel: a cancelled result within a second or two, keeping what it had produced.
            let cancel = try Self.quern(["cancel", "long.txt", "--inbox", scratch.inbox.path])
            #expect(cancel.status == 0 && cancel.output.contains("long.txt"), "\(cancel.output)")
            #expect(scratch.waitUntil(timeout: 3) { scratch.resultCount == 3 }, "\(daemon.log)")
            results = try scratch.resultsByInput()
            let cancelled = results["long.txt"]
            #expect(status(cancelled) == "cancelled" && errorCode(cancelled) == "cancelled", "\(String(describing: cancelled))")
            #expect(((cancelled?["partial"] as? [String: Any])?["diagnostic"] as? [String: Any])?["bytes"] as? Int == Self.hanging.count)
            #expect(try SchemaValidator.problems(in: [scratch.outbox.path]) == nil)
            #expect(scratch.waitUntil(timeout: 5) { !scratch.entries(scratch.failed).isEmpty }, "the input is archived in failed/")

            // Nothing by that name is left to cancel.
            let again = try Self.quern(["cancel", "long.txt", "--inbox", scratch.inbox.path])
            #expect(again.status == 1, "\(again.output)")

            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 15) == 0)
            #expect(Self.statusFile(scratch)?["state"] as? String == "stopped")
            let after = try Self.quern(["status", "--inbox", scratch.inbox.path])
            #expect(after.status == 3 && after.output.contains("not running"), "\(after.output)")
        }

        @Test func deletingTheInputFromTheWorkAreaCancelsARunningAndAQueuedJob() throws {
            let scratch = try Scratch()
            let daemon = try DaemonProcess(scratch: scratch, arguments: ["--timeout", "120", "--settle", "0.2"])
            #expect(daemon.waitUntilServing(), "\(daemon.log)")
            try scratch.drop("first.txt", Self.hanging)
            #expect(scratch.waitUntil(timeout: 10) { daemon.log.contains("name=first.txt") && daemon.log.contains("msg=started") }, "\(daemon.log)")
            // The same lane: this one waits in its queue behind the first.
            try scratch.drop("second.txt", Self.hanging)
            #expect(scratch.waitUntil(timeout: 10) {
                ((Self.statusFile(scratch)?["lanes"] as? [[String: Any]]) ?? []).contains { $0["queued"] as? Int == 1 }
            }, "\(daemon.log)")
            let queuedLane = ((Self.statusFile(scratch)?["lanes"] as? [[String: Any]]) ?? []).first { $0["queued"] as? Int == 1 }
            #expect((queuedLane?["oldest_waiting"] as? [String: Any])?["name"] as? String == "second.txt")

            let second = try #require(Self.claimDirectory(scratch, holding: "second.txt"))
            try FileManager.default.removeItem(at: second.appendingPathComponent("second.txt"))
            #expect(scratch.waitUntil(timeout: 3) { scratch.resultCount == 1 }, "\(daemon.log)")
            #expect(status(try scratch.resultsByInput()["second.txt"]) == "cancelled")

            let first = try #require(Self.claimDirectory(scratch, holding: "first.txt"))
            try FileManager.default.removeItem(at: first.appendingPathComponent("first.txt"))
            #expect(scratch.waitUntil(timeout: 3) { scratch.resultCount == 2 }, "\(daemon.log)")
            let result = try scratch.resultsByInput()["first.txt"]
            #expect(status(result) == "cancelled" && errorCode(result) == "cancelled")
            #expect((result?["partial"] as? [String: Any])?["diagnostic"] != nil, "\(String(describing: result))")

            // The lane is free again.
            try scratch.drop("after.txt", text: "hello\n")
            #expect(scratch.waitUntil(timeout: 10) { scratch.resultCount == 3 }, "\(daemon.log)")
            #expect(status(try scratch.resultsByInput()["after.txt"]) == "ok")
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 15) == 0)
        }

        // MARK: Real models

        static var models: String { TestPaths.models }

        @Test func aGenerationThatTimesOutKeepsTheTextGeneratedSoFar() throws {
            try #require(FileManager.default.fileExists(atPath: TestPaths.smolLM2), "the chat model is missing: run scripts/fetch-models.sh")
            let scratch = try Scratch()
            let daemon = try DaemonProcess(scratch: scratch, arguments: ["--models", Self.models, "--timeout", "5", "--preload", "--settle", "0.2"], diagnostic: false)
            #expect(daemon.waitUntilServing(timeout: 120), "\(daemon.log)")
            // Loaded at start, so the whole limit goes to generating: on a
            // loaded CI machine a first load plus the first forward pass over
            // cold weight pages once took the whole of a 2 s limit.
            try scratch.drop("story.json", Array(#"{"task": "complete", "prompt": "Once upon a time there was a", "max_tokens": 8000, "temperature": 0}"#.utf8))
            #expect(scratch.waitUntil(timeout: 30) { scratch.resultCount == 1 }, "\(daemon.log)")
            let result = try scratch.resultsByInput()["story.json"]
            #expect(status(result) == "timeout" && errorCode(result) == "timeout", "\(String(describing: result))")
            let partial = try #require(result?["partial"] as? [String: Any], "\(String(describing: result))")
            #expect(((partial["text"] as? String) ?? "").count > 0)
            #expect(((partial["usage"] as? [String: Any])?["completion_tokens"] as? Int ?? 0) > 0)
            #expect(try SchemaValidator.problems(in: [scratch.outbox.path]) == nil)
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 30) == 0)
        }

        @Test func aTranscriptionThatTimesOutKeepsTheSegmentsSoFar() throws {
            try #require(FileManager.default.fileExists(atPath: Self.models + "/whisper-tiny-en/model.bin"), "the speech model is missing: run scripts/fetch-models.sh")
            let corpus = try #require(WhisperTestCorpus.folder, "the speech corpus could not be generated (espeak-ng, sox)")
            // About ten minutes of speech: the model needs far longer than the
            // timeout (it transcribes about 32 s of audio per second here; with
            // three minutes it once finished 0.15 s inside the 8 s limit).
            let speech = try SpeechCorpus.manifest().filter { $0.kind == "speech" }.compactMap { WhisperTestCorpus.exactSamples(corpus + "/" + $0.file) }
            try #require(!speech.isEmpty)
            var samples: [Float] = []
            while samples.count < 600 * 16_000 { for clip in speech { samples += clip } }
            let scratch = try Scratch()
            let daemon = try DaemonProcess(scratch: scratch, arguments: ["--models", Self.models, "--timeout", "8", "--settle", "0.2"], diagnostic: false)
            #expect(daemon.waitUntilServing(timeout: 120), "\(daemon.log)")
            try scratch.drop("talk.wav", Self.wav(samples))
            #expect(scratch.waitUntil(timeout: 60) { scratch.resultCount == 1 }, "\(daemon.log)")
            let result = try scratch.resultsByInput()["talk.wav"]
            #expect(status(result) == "timeout", "\(String(describing: result))")
            let partial = try #require(result?["partial"] as? [String: Any], "\(String(describing: result))")
            #expect(((partial["segments"] as? [Any]) ?? []).count > 0, "\(partial)")
            #expect(((partial["text"] as? String) ?? "").count > 0)
            #expect(try SchemaValidator.problems(in: [scratch.outbox.path]) == nil)
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 30) == 0)
        }

        /// 16 kHz mono 16-bit PCM.
        static func wav(_ samples: [Float]) -> [UInt8] {
            func le32(_ value: Int) -> [UInt8] { (0..<4).map { UInt8((value >> ($0 * 8)) & 0xFF) } }
            func le16(_ value: Int) -> [UInt8] { (0..<2).map { UInt8((value >> ($0 * 8)) & 0xFF) } }
            var pcm: [UInt8] = []
            pcm.reserveCapacity(samples.count * 2)
            for sample in samples {
                let value = Int(max(-32768, min(32767, (sample * 32768).rounded())))
                pcm += le16(value & 0xFFFF)
            }
            return Array("RIFF".utf8) + le32(36 + pcm.count) + Array("WAVE".utf8) + Array("fmt ".utf8) + le32(16) + le16(1) + le16(1)
                + le32(16_000) + le32(32_000) + le16(2) + le16(16) + Array("data".utf8) + le32(pcm.count) + pcm
        }
    }
}
