import Foundation
import QuernTestSupport
import Testing

extension Integration {
    /// Situations that used to leave the daemon alive but doing nothing.
    @Suite struct Stalls {
        /// Deleting the inbox stops the daemon with a message and a non-zero
        /// code (its supervisor restarts it on the new one) instead of leaving
        /// it blind; with inotify and with polling.
        @Test(arguments: [false, true]) func deletingTheInboxStopsTheDaemonWithAnError(polling: Bool) throws {
            let scratch = try Scratch()
            let daemon = try DaemonProcess(scratch: scratch, arguments: polling ? ["--poll", "--poll-interval", "0.2"] : [])
            #expect(daemon.waitUntilServing(), "\(daemon.log)")
            try FileManager.default.removeItem(at: scratch.inbox)
            #expect(daemon.waitForExit(timeout: 5) == 1, "\(daemon.log)")
            #expect(daemon.log.contains("the inbox was deleted"), "\(daemon.log)")
        }

        /// `ln` / `cp -l` into the inbox: IN_CREATE and no IN_CLOSE_WRITE.
        @Test func hardLinksAreTaken() throws {
            let scratch = try Scratch()
            let daemon = try DaemonProcess(scratch: scratch, arguments: ["--settle", "0.3"])
            #expect(daemon.waitUntilServing(), "\(daemon.log)")
            let original = scratch.staging.appendingPathComponent("linked.txt")
            try Data("a hard link\n".utf8).write(to: original)
            #expect(link(original.path, scratch.inbox.appendingPathComponent("linked.txt").path) == 0)
            #expect(scratch.waitUntil(timeout: 10) { scratch.resultCount == 1 }, "\(daemon.log)")
            #expect(status(try scratch.resultsByInput()["linked.txt"]) == "ok")
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 10) == 0)
        }

        /// A full outbox: results wait and are retried with back-off (no empty
        /// temp files left), a graceful stop while it is full hands the inputs
        /// back without charging them, and everything comes out once space
        /// frees up — without a restart, and `ok` after one.
        @Test func aFullOutboxIsRetriedUntilSpaceFreesUp() throws {
            let scratch = try Scratch()
            // A small tmpfs over the outbox, filled up.
            guard mount("tmpfs", scratch.outbox.path, "tmpfs", 0, "size=128k") == 0 else {
                Issue.record("cannot mount a tmpfs (errno \(errno)); this test needs root")
                return
            }
            defer { umount2(scratch.outbox.path, Int32(MNT_DETACH)) }
            let filler = scratch.outbox.appendingPathComponent(".filler")
            let descriptor = open(filler.path, O_WRONLY | O_CREAT, 0o644)
            let block = [UInt8](repeating: 0x78, count: 4096)
            while block.withUnsafeBytes({ write(descriptor, $0.baseAddress, $0.count) }) > 0 {}
            close(descriptor)

            let arguments = ["--max-attempts", "1"]
            for index in 0..<3 { try scratch.drop("waiting-\(index).txt", text: "result \(index) must wait for space\n") }
            var daemon = try DaemonProcess(scratch: scratch, arguments: arguments, logName: "full-1.log")
            #expect(daemon.waitUntilServing(), "\(daemon.log)")
            #expect(scratch.waitUntil(timeout: 10) { daemon.log.contains("retrying") }, "\(daemon.log)")
            #expect(scratch.resultCount == 0)
            #expect(scratch.temporaryResults.map { String(decoding: $0, as: UTF8.self) } == [".filler"], "no temp files are left behind")
            // A graceful stop while full: the inputs are handed back, not charged.
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 10) == 0, "\(daemon.log)")

            daemon = try DaemonProcess(scratch: scratch, arguments: arguments, logName: "full-2.log")
            #expect(daemon.waitUntilServing(), "\(daemon.log)")
            #expect(scratch.waitUntil(timeout: 10) { daemon.log.contains("retrying") }, "\(daemon.log)")
            try FileManager.default.removeItem(at: filler)
            #expect(scratch.waitUntil(timeout: 30) { scratch.resultCount == 3 }, "\(daemon.log)")
            let results = try scratch.resultsByInput()
            for index in 0..<3 {
                #expect(status(results["waiting-\(index).txt"]) == "ok", "\(String(describing: results["waiting-\(index).txt"]))")
            }
            #expect(scratch.temporaryResults.isEmpty)
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 10) == 0)
        }
    }
}
