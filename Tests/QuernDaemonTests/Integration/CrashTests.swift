import Foundation
import QuernTestSupport
import Testing

extension Integration {
    @Suite struct Crashes {
        /// kill -9 at random moments while bursts are being processed, 20
        /// times; then one clean run. Every input must end with exactly one
        /// whole result and sit in the archive.
        @Test func killNineDuringBurstsLosesAndDuplicatesNothing() throws {
            let scratch = try Scratch()
            var generator = SystemRandomNumberGenerator()
            var expected: [String: Int] = [:]  // input name → size
            var logs: [URL] = []
            let rounds = 20
            let perRound = 40
            for round in 0..<rounds {
                let daemon = try DaemonProcess(
                    scratch: scratch, arguments: ["--diagnostic-delay-ms", "3", "--max-attempts", "1000"], logName: "round-\(round).log")
                logs.append(daemon.logURL)
                for index in 0..<perRound {
                    let name = "r\(round)-\(index).txt"
                    let text = "round \(round) file \(index)" + String(repeating: ".", count: Int.random(in: 0..<200, using: &generator))
                    try scratch.drop(name, text: text)
                    expected[name] = text.utf8.count
                }
                // Kill while work is in flight: wait for a claim to appear (a
                // slow CI machine may take longer than any fixed delay to start
                // the daemon), then strike at a random moment inside the burst.
                _ = scratch.waitUntil(timeout: 10) { !scratch.entries(scratch.work).isEmpty }
                usleep(UInt32.random(in: 0..<40_000, using: &generator))
                daemon.killHard()
            }
            let final = try DaemonProcess(scratch: scratch, arguments: ["--max-attempts", "1000"], logName: "final.log")
            #expect(final.waitUntilServing(), "\(final.log)")
            let settled = scratch.waitUntil(timeout: 120) {
                scratch.inboxCount == 0 && scratch.entries(scratch.work).isEmpty && scratch.resultCount == expected.count
            }
            #expect(settled, "inbox \(scratch.inboxCount), work \(scratch.entries(scratch.work).count), results \(scratch.resultCount) of \(expected.count)\n\(final.log)")
            final.signal(SIGTERM)
            #expect(final.waitForExit(timeout: 10) == 0)
            // The kills did land mid-work: later starts found claims to recover.
            let recoveries = (logs + [final.logURL]).map { (try? String(contentsOf: $0, encoding: .utf8)) ?? "" }
                .filter { $0.contains("recovering claimed inputs") || $0.contains("published a result written before a restart") }.count
            #expect(recoveries > 0, "no start found anything to recover: the kills never hit in-flight work")

            // Exactly one result per input, named plainly (a duplicate would be `.1.json`).
            let unexpected = Set(scratch.resultNames()).symmetricDifference(expected.keys.map { $0 + ".json" })
            #expect(unexpected.isEmpty, "results missing or extra: \(unexpected.sorted())")
            let results = try scratch.resultsByInput()
            for (name, size) in expected {
                #expect(status(results[name]) == "ok", "\(name): \(String(describing: results[name]))")
                #expect((results[name]?["input"] as? [String: Any])?["size"] as? Int == size)
            }
            #expect(scratch.temporaryResults.isEmpty)

            // Every input archived exactly once. (A kill right after the archive
            // move can leave the hidden `.written-ok` marker beside the input; it
            // is harmless, and removing it before the move would not be safe.)
            var archived: [String] = []
            for claim in scratch.entries(scratch.done) {
                archived += scratch.entries(scratch.done.appendingPathComponent(claim)).filter { !$0.hasPrefix(".") }
            }
            #expect(archived.count == expected.count)
            let difference = Set(archived).symmetricDifference(expected.keys)
            #expect(difference.isEmpty, "archived but not dropped, or dropped but not archived: \(difference.sorted())")
            #expect(scratch.entries(scratch.failed).isEmpty)
            let problems = try SchemaValidator.problems(in: [scratch.outbox.path])
            #expect(problems == nil, "\(problems ?? "")")
        }

        /// A kill charges an attempt only to the inputs inside the model (one
        /// diagnostic batch of up to 8), never to the ones waiting in a queue:
        /// with --max-attempts 2, four kills during a queue of 30 slow inputs
        /// leave every one of them `ok` (when every claimed input was charged,
        /// all but the finished ones failed). Each kill waits until the inputs
        /// charged by the one before are done and another batch is inside the
        /// model, so no input is charged twice whatever the machine's speed.
        @Test func killsChargeOnlyTheInputInsideTheModel() throws {
            let scratch = try Scratch()
            let count = 30
            for index in 0..<count { try scratch.drop("queued-\(index).txt", text: "queued input \(index)\n") }
            let arguments = ["--diagnostic-delay-ms", "100", "--max-attempts", "2"]
            func running() -> Set<String> {
                Set(scratch.entries(scratch.work).filter { claim in
                    scratch.entries(scratch.work.appendingPathComponent(claim)).contains(".running")
                })
            }
            var charged: Set<String> = []
            var kills = 0
            for round in 0..<4 {
                let daemon = try DaemonProcess(scratch: scratch, arguments: arguments, logName: "round-\(round).log")
                #expect(daemon.waitUntilServing(), "\(daemon.log)")
                let previous = charged
                let ready = scratch.waitUntil(timeout: 30) {
                    (previous.isDisjoint(with: scratch.entries(scratch.work)) && !running().isEmpty) || scratch.resultCount == count
                }
                daemon.killHard()
                guard ready, scratch.resultCount < count else { break }  // the queue ran dry: nothing left to kill inside
                charged = running()
                kills += charged.isEmpty ? 0 : 1
            }
            #expect(kills >= 1, "no kill hit an input inside the model")
            let final = try DaemonProcess(scratch: scratch, arguments: arguments, logName: "final.log")
            #expect(final.waitUntilServing(), "\(final.log)")  // a SIGTERM before the handlers are in place is lost
            #expect(scratch.waitUntil(timeout: 60) { scratch.resultCount == count && scratch.entries(scratch.work).isEmpty }, "\(final.log)")
            final.signal(SIGTERM)
            #expect(final.waitForExit(timeout: 10) == 0, "\(final.log)")
            let results = try scratch.resultsByInput()
            #expect(results.count == count)
            for (name, result) in results {
                #expect(status(result) == "ok", "\(name): \(String(describing: result))")
            }
        }

        /// Each state a crash can leave in the work area, built by hand.
        @Test func recoveryFinishesEveryCrashState() throws {
            let scratch = try Scratch()
            let fileManager = FileManager.default
            func claim(_ id: String, input: String?, markers: [String]) throws {
                let directory = scratch.work.appendingPathComponent(id)
                try fileManager.createDirectory(at: directory, withIntermediateDirectories: true)
                if let input { try Data("contents of \(input)\n".utf8).write(to: directory.appendingPathComponent(input)) }
                for marker in markers { _ = fileManager.createFile(atPath: directory.appendingPathComponent(marker).path, contents: nil) }
            }
            try claim("0a-000001", input: "never-finished.txt", markers: [])
            try claim("0a-000002", input: "written-not-published.txt", markers: [".written-ok"])
            let prewritten = #"{"schema_version":1,"quern_version":"0.1.0","claim_id":"0a-000002","created":"2026-01-01T00:00:00.000Z","input":{"name":"written-not-published.txt","size":1,"sha256":null,"kind":"text"},"task":"chat","status":"ok","error":null,"model":{"name":"quern-diagnostic","sha256":null},"result":{"diagnostic":{"bytes":1}},"timings":{"queued_ms":0,"decode_ms":0,"inference_ms":0,"total_ms":0}}"#
            try Data(prewritten.utf8).write(to: scratch.outbox.appendingPathComponent(".quern-0a-000002.tmp"))
            try claim("0a-000003", input: "published-not-archived.txt", markers: [".written-error"])
            try claim("0a-000004", input: nil, markers: [])
            try Data("stale".utf8).write(to: scratch.outbox.appendingPathComponent(".quern-0b-000009.tmp"))
            try claim("0a-000005", input: "crashes-every-time.txt", markers: [".running", ".attempt-1", ".attempt-2"])
            // Charged twice before, but only queued when the process died this time.
            try claim("0a-000008", input: "queued-at-the-crash.txt", markers: [".attempt-1", ".attempt-2"])
            try claim("0a-000006", input: "handed-back.txt", markers: [".handed-back", ".attempt-1", ".attempt-2"])
            try claim("0a-000007", input: "half-written.txt", markers: [])
            try Data("{\"schema_ver".utf8).write(to: scratch.outbox.appendingPathComponent(".quern-0a-000007.tmp"))

            let daemon = try DaemonProcess(scratch: scratch, arguments: ["--max-attempts", "3"])
            #expect(daemon.waitUntilServing(), "\(daemon.log)")
            #expect(scratch.waitUntil(timeout: 20) { scratch.resultCount == 6 && scratch.entries(scratch.work).isEmpty }, "\(daemon.log)")
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 10) == 0)

            let results = try scratch.resultsByInput()
            #expect(Set(results.keys) == ["never-finished.txt", "written-not-published.txt", "crashes-every-time.txt", "handed-back.txt", "half-written.txt", "queued-at-the-crash.txt"])
            #expect(status(results["queued-at-the-crash.txt"]) == "ok", "an input that was only queued at a crash is not charged")
            #expect(status(results["never-finished.txt"]) == "ok")
            #expect(results["written-not-published.txt"]?["claim_id"] as? String == "0a-000002")
            #expect(results["written-not-published.txt"]?["created"] as? String == "2026-01-01T00:00:00.000Z", "the pre-written result must be published as is")
            #expect(errorCode(results["crashes-every-time.txt"]) == "internal")
            #expect(status(results["handed-back.txt"]) == "ok", "a handed-back input is not counted as a crash")
            #expect(status(results["half-written.txt"]) == "ok")
            #expect(scratch.temporaryResults.isEmpty)
            #expect(fileManager.fileExists(atPath: scratch.failed.appendingPathComponent("0a-000003/published-not-archived.txt").path))
            #expect(fileManager.fileExists(atPath: scratch.done.appendingPathComponent("0a-000002/written-not-published.txt").path))
            #expect(fileManager.fileExists(atPath: scratch.failed.appendingPathComponent("0a-000005/crashes-every-time.txt").path))
            #expect(scratch.entries(scratch.done.appendingPathComponent("0a-000002")) == ["written-not-published.txt"], "markers are removed from the archive")
        }
    }
}
