import Foundation
import QuernTestSupport
import Testing

extension Integration {
    @Suite struct Lifecycle {
        @Test func aSecondDaemonOnTheSameInboxRefusesToStart() throws {
            let scratch = try Scratch()
            let first = try DaemonProcess(scratch: scratch)
            #expect(first.waitUntilServing(), "\(first.log)")
            let second = try DaemonProcess(scratch: scratch, logName: "second.log")
            #expect(second.waitForExit(timeout: 10) == 75)
            #expect(second.log.contains("already serving the inbox"), "\(second.log)")
            #expect(second.log.contains("process \(first.pid)"), "\(second.log)")
            // The first one is unharmed.
            try scratch.drop("still.txt", text: "here\n")
            #expect(scratch.waitUntil(timeout: 10) { scratch.resultCount == 1 })
            first.signal(SIGTERM)
            #expect(first.waitForExit(timeout: 10) == 0)
            // Once it is gone, the inbox can be served again.
            let third = try DaemonProcess(scratch: scratch, logName: "third.log")
            #expect(third.waitUntilServing(), "\(third.log)")
            third.signal(SIGINT)
            #expect(third.waitForExit(timeout: 10) == 0)
        }

        /// The lock is on the inbox directory: deleting what a dropping user
        /// can delete (the pid record, any dot-file) lets no second daemon in.
        @Test func deletingThePidFileDoesNotLetASecondDaemonIn() throws {
            let scratch = try Scratch()
            let first = try DaemonProcess(scratch: scratch)
            #expect(first.waitUntilServing(), "\(first.log)")
            let pidFile = scratch.inbox.appendingPathComponent(".quern.pid")
            #expect(FileManager.default.fileExists(atPath: pidFile.path))
            try FileManager.default.removeItem(at: pidFile)
            let second = try DaemonProcess(scratch: scratch, logName: "second.log")
            #expect(second.waitForExit(timeout: 10) == 75, "\(second.log)")
            #expect(second.log.contains("already serving the inbox"), "\(second.log)")
            first.signal(SIGTERM)
            #expect(first.waitForExit(timeout: 10) == 0)
        }

        /// Preparation that runs away past the timeout and a further timeout
        /// stops the daemon with the code `serve --help` documents for an
        /// ignored cancellation (70), though the runaway thread is still busy
        /// when the process leaves — not a crash in exit()'s teardown.
        @Test func aRunawayPreparationExitsWithTheDocumentedCode() throws {
            let scratch = try Scratch()
            let daemon = try DaemonProcess(scratch: scratch, arguments: ["--timeout", "1"])
            #expect(daemon.waitUntilServing(), "\(daemon.log)")
            try scratch.drop("runaway.txt", text: "quern-diagnostic:slow-prepare-30000\n")
            #expect(daemon.waitForExit(timeout: 15) == 70, "\(daemon.log)")
            #expect(daemon.log.contains("exit_code=70"), "\(daemon.log)")
            let results = try scratch.resultsByInput()
            #expect(errorCode(results["runaway.txt"]) == "timeout", "its timeout result was written at the deadline")
        }

        @Test func sigtermStopsPromptlyAndHandsBackTheRunningInference() throws {
            let scratch = try Scratch()
            let daemon = try DaemonProcess(scratch: scratch, arguments: ["--timeout", "120", "--shutdown-grace", "0.5"])
            #expect(daemon.waitUntilServing(), "\(daemon.log)")
            try scratch.drop("done-first.txt", text: "quick\n")
            #expect(scratch.waitUntil(timeout: 10) { scratch.resultCount == 1 })
            try scratch.drop("long.txt", text: "quern-diagnostic:hang\n")
            #expect(scratch.waitUntil(timeout: 10) { !scratch.entries(scratch.work).isEmpty })
            usleep(100_000)
            let start = Date()
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 5) == 0, "\(daemon.log)")
            #expect(Date().timeIntervalSince(start) < 3)
            // Handed back: still claimed, marked, no result yet.
            let claims = scratch.entries(scratch.work)
            #expect(claims.count == 1)
            if let claim = claims.first {
                let contents = scratch.entries(scratch.work.appendingPathComponent(claim))
                #expect(contents.contains("long.txt") && contents.contains(".handed-back"), "\(contents)")
            }
            #expect(scratch.resultCount == 1)
            // The next start finishes it (here: its timeout error).
            let next = try DaemonProcess(scratch: scratch, arguments: ["--timeout", "0.5"], logName: "next.log")
            #expect(scratch.waitUntil(timeout: 20) { scratch.resultCount == 2 }, "\(next.log)")
            #expect(errorCode(try scratch.resultsByInput()["long.txt"]) == "timeout")
            next.signal(SIGTERM)
            #expect(next.waitForExit(timeout: 10) == 0)
        }

        @Test func idleDaemonExitsAtOnceOnSigterm() throws {
            let scratch = try Scratch()
            let daemon = try DaemonProcess(scratch: scratch)
            #expect(daemon.waitUntilServing(), "\(daemon.log)")
            let start = Date()
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 5) == 0)
            #expect(Date().timeIntervalSince(start) < 1)
            #expect(daemon.log.contains("msg=stopped"))
        }
    }
}
