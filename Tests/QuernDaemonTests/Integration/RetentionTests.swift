import Foundation
import QuernTestSupport
import Testing

extension Integration {
    /// `--keep-inputs`, `--keep-*-days` and `--keep-*-size` on a real daemon.
    @Suite struct Retention {
        @Test func keepingOnlyFailedInputsDeletesTheOthersOnceTheirResultIsOut() throws {
            let scratch = try Scratch()
            let daemon = try DaemonProcess(scratch: scratch, arguments: ["--keep-inputs", "failed"])
            #expect(daemon.waitUntilServing(), "\(daemon.log)")
            for index in 0..<5 { try scratch.drop("fine-\(index).txt", text: "fine \(index)\n") }
            try scratch.drop("fails.txt", text: "quern-diagnostic:fail\n")
            // The ok inputs leave done/ right after their archive move; the failed one stays.
            #expect(scratch.waitUntil(timeout: 20) {
                scratch.resultCount == 6 && scratch.entries(scratch.work).isEmpty && scratch.entries(scratch.done).isEmpty
                    && scratch.entries(scratch.failed).count == 1
            }, "done \(scratch.entries(scratch.done)), failed \(scratch.entries(scratch.failed))\n\(daemon.log)")
            #expect(try scratch.resultsByInput().count == 6)
            #expect(daemon.log.contains("msg=\"retention sweep\""), "a sweep at start-up")
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 10) == 0)
        }

        /// Old archive entries and results are deleted by the sweep at
        /// start-up; young ones and everything Quern did not write stay.
        @Test func byAgeAtStartUpLeavingForeignFilesAlone() throws {
            let scratch = try Scratch()
            let fileManager = FileManager.default
            let longAgo = Date().addingTimeInterval(-10 * 86400)
            func age(_ url: URL) throws { try fileManager.setAttributes([.modificationDate: longAgo], ofItemAtPath: url.path) }
            // A first run makes real results and archive entries.
            let first = try DaemonProcess(scratch: scratch, logName: "first.log")
            #expect(first.waitUntilServing(), "\(first.log)")
            try scratch.drop("old.txt", text: "old\n")
            try scratch.drop("fails.txt", text: "quern-diagnostic:fail\n")
            #expect(scratch.waitUntil(timeout: 20) { scratch.resultCount == 2 && scratch.entries(scratch.work).isEmpty }, "\(first.log)")
            first.signal(SIGTERM)
            #expect(first.waitForExit(timeout: 10) == 0)
            for claim in scratch.entries(scratch.done) + scratch.entries(scratch.failed) {
                let archive = fileManager.fileExists(atPath: scratch.done.appendingPathComponent(claim).path) ? scratch.done : scratch.failed
                try age(archive.appendingPathComponent(claim))
            }
            try age(scratch.outbox.appendingPathComponent("old.txt.json"))
            // Foreign, and old: a user's file in the outbox, a folder in the archive.
            let notes = scratch.outbox.appendingPathComponent("notes.json")
            try Data(#"{"mine": 1}"#.utf8).write(to: notes)
            try age(notes)
            let mine = scratch.done.appendingPathComponent("mine")
            try fileManager.createDirectory(at: mine, withIntermediateDirectories: true)
            try age(mine)

            let daemon = try DaemonProcess(scratch: scratch, arguments: ["--keep-inputs-days", "1", "--keep-results-days", "1"])
            #expect(daemon.waitUntilServing(), "\(daemon.log)")
            #expect(scratch.waitUntil(timeout: 10) { daemon.log.contains("msg=\"retention sweep\"") }, "\(daemon.log)")
            #expect(daemon.log.contains("inputs_deleted=2"), "\(daemon.log)")
            #expect(daemon.log.contains("results_deleted=1"), "\(daemon.log)")
            #expect(!fileManager.fileExists(atPath: scratch.outbox.appendingPathComponent("old.txt.json").path))
            #expect(fileManager.fileExists(atPath: scratch.outbox.appendingPathComponent("fails.txt.json").path), "a young result stays")
            #expect(fileManager.fileExists(atPath: notes.path))
            #expect(scratch.entries(scratch.done) == ["mine"])
            #expect(scratch.entries(scratch.failed).isEmpty)
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 10) == 0)
        }

        /// With a size limit and a short interval, the outbox is trimmed while
        /// serving, oldest results first.
        @Test func bySizeWhileServing() throws {
            let scratch = try Scratch()
            let daemon = try DaemonProcess(scratch: scratch, arguments: ["--keep-results-size", "3K", "--retention-interval", "0.2"])
            #expect(daemon.waitUntilServing(), "\(daemon.log)")
            for index in 0..<12 {
                try scratch.drop(String(format: "file-%02d.txt", index), text: "file \(index)\n")
                usleep(20_000)  // distinct mtimes, so "oldest" is well defined
            }
            #expect(scratch.waitUntil(timeout: 20) { daemon.log.components(separatedBy: "msg=processed").count - 1 == 12 }, "\(daemon.log)")
            func resultBytes() -> Int {
                scratch.resultNames().reduce(0) { total, name in
                    total + ((try? FileManager.default.attributesOfItem(atPath: scratch.outbox.appendingPathComponent(name).path)[.size] as? Int) ?? 0)
                }
            }
            #expect(scratch.waitUntil(timeout: 10) { resultBytes() <= 3072 }, "\(resultBytes()) bytes\n\(daemon.log)")
            let kept = scratch.resultNames().sorted()
            #expect(!kept.isEmpty && kept.contains("file-11.txt.json"), "the newest results stay: \(kept)")
            #expect(!kept.contains("file-00.txt.json"))
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 10) == 0)
        }
    }
}
