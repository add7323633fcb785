import Foundation
import QuernTestSupport
import Testing

extension Integration {
    @Suite struct Drops {
        @Test func atomicDropsPartFilesAndSlowInPlaceWrites() throws {
            let scratch = try Scratch()
            let daemon = try DaemonProcess(scratch: scratch, arguments: ["--settle", "1"])
            #expect(daemon.waitUntilServing(), "\(daemon.log)")

            for index in 0..<5 { try scratch.drop("atomic-\(index).txt", text: "file \(index)\n") }
            #expect(scratch.waitUntil(timeout: 10) { scratch.resultCount == 5 }, "\(daemon.log)")

            // A `.part` file is never taken; its rename is.
            let part = scratch.inbox.appendingPathComponent("upload.txt.part")
            try Data("uploading\n".utf8).write(to: part)
            usleep(500_000)
            #expect(scratch.resultCount == 5)
            #expect(rename(part.path, scratch.inbox.appendingPathComponent("upload.txt").path) == 0)
            #expect(scratch.waitUntil(timeout: 10) { scratch.resultCount == 6 })

            // Written in place, slowly: taken only after close, whole.
            let inPlace = scratch.inbox.appendingPathComponent("slow.txt")
            let descriptor = open(inPlace.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            #expect(descriptor >= 0)
            let chunk = Array(String(repeating: "line of text\n", count: 100).utf8)
            for _ in 0..<4 {
                _ = chunk.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
                usleep(300_000)
            }
            #expect(scratch.resultCount == 6, "a file still open for writing was taken")
            close(descriptor)
            #expect(scratch.waitUntil(timeout: 10) { scratch.resultCount == 7 })

            let results = try scratch.resultsByInput()
            #expect((results["slow.txt"]?["input"] as? [String: Any])?["size"] as? Int == chunk.count * 4)
            #expect(results.values.allSatisfy { status($0) == "ok" })
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 10) == 0)
            #expect(try SchemaValidator.problems(in: [scratch.outbox.path]) == nil)
        }

        @Test func pollingWaitsUntilAFileStopsChanging() throws {
            let scratch = try Scratch()
            let daemon = try DaemonProcess(scratch: scratch, arguments: ["--poll", "--poll-interval", "0.05", "--settle", "0.6"])
            #expect(daemon.waitUntilServing(), "\(daemon.log)")
            #expect(daemon.log.contains("watch=polling"))

            try scratch.drop("quick.txt", text: "hello\n")
            #expect(scratch.waitUntil(timeout: 10) { scratch.resultCount == 1 })

            // Appends every 0.2 s, each reopening the file: the gaps are shorter
            // than the settle time, so only the finished file is taken.
            let path = scratch.inbox.appendingPathComponent("growing.txt")
            _ = FileManager.default.createFile(atPath: path.path, contents: nil)
            let chunk = Data(String(repeating: "more\n", count: 50).utf8)
            for _ in 0..<6 {
                let handle = try FileHandle(forWritingTo: path)
                try handle.seekToEnd()
                try handle.write(contentsOf: chunk)
                try handle.close()
                usleep(200_000)
            }
            #expect(scratch.resultCount == 1, "a file still growing was taken")
            #expect(scratch.waitUntil(timeout: 10) { scratch.resultCount == 2 })
            let results = try scratch.resultsByInput()
            #expect((results["growing.txt"]?["input"] as? [String: Any])?["size"] as? Int == chunk.count * 6)
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 10) == 0)
        }

        @Test func sameNameTwiceGetsDistinctResults() throws {
            let scratch = try Scratch()
            let daemon = try DaemonProcess(scratch: scratch)
            #expect(daemon.waitUntilServing(), "\(daemon.log)")
            for round in 0..<3 {
                try scratch.drop("cat.txt", text: "round \(round)\n")
                #expect(scratch.waitUntil(timeout: 10) { scratch.resultCount == round + 1 })
            }
            #expect(Set(scratch.resultNames()) == ["cat.txt.json", "cat.txt.1.json", "cat.txt.2.json"])
            let sizes = try ["cat.txt.json", "cat.txt.1.json", "cat.txt.2.json"].map { try (scratch.result($0)["input"] as? [String: Any])?["sha256"] as? String }
            #expect(Set(sizes.compactMap { $0 }).count == 3)
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 10) == 0)
        }
    }
}
