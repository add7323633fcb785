import Foundation
import QuernTestSupport
import Testing

extension Integration {
    @Suite struct BadInputs {
        @Test func everyBadInputGetsAnErrorResultAndTheDaemonCarriesOn() throws {
            let scratch = try Scratch()
            let daemon = try DaemonProcess(scratch: scratch, arguments: ["--max-bytes", "1000000", "--timeout", "1"])
            #expect(daemon.waitUntilServing(), "\(daemon.log)")

            var expected: [String: String] = [:]  // input name (or hex) → error code, or "ok"
            func drop(_ name: String, _ bytes: [UInt8], _ outcome: String) throws {
                try scratch.drop(name, bytes)
                expected[name] = outcome
            }
            let png = Fixtures.png()
            var corruptPNG = png
            corruptPNG[corruptPNG.count - 20] ^= 0x55
            try drop("empty.txt", [], "input.empty")
            try drop("truncated.png", Array(png.prefix(png.count - 16)), "input.corrupt")
            try drop("corrupt.png", corruptPNG, "input.corrupt")
            try drop("bomb.png", Fixtures.pngBomb(width: 200_000, height: 200_000), "input.too_large")
            try drop("truncated.wav", Array(Fixtures.wav().prefix(500)), "input.corrupt")
            try drop("latin1.txt", [0x63, 0x61, 0x66, 0xE9, 0x0A], "input.not_utf8")
            try drop("oversized.txt", [UInt8](repeating: 0x61, count: 1_500_000), "input.too_large")
            try drop("binary.bin", [0x00, 0x01, 0x02, 0xFE, 0x00, 0x7F, 0x00], "input.unrecognized")
            try drop("broken.json", Array("{\"task\": \"chat\",".utf8), "request.invalid_json")
            try drop("typo.json", Array(#"{"task": "complete", "prompt": "x", "temprature": 1}"#.utf8), "request.unknown_field")
            try drop("wrong.json", Array(#"{"task": "complete", "prompt": 42}"#.utf8), "request.wrong_type")
            try drop("fails.txt", Array("please quern-diagnostic:fail\n".utf8), "pipeline.failed")
            try drop("hangs.txt", Array("quern-diagnostic:hang\n".utf8), "timeout")
            // Preparation is under the timeout too: the result comes at the
            // deadline, and the lane carries on once the preparation returns.
            try drop("slow-prepare.txt", Array("quern-diagnostic:slow-prepare-1500\n".utf8), "timeout")
            try drop("fine.png", png, "ok")
            try drop("fine.wav", Fixtures.wav(), "ok")

            // Not regular files: never opened, never followed.
            #expect(symlink("/etc/hostname", scratch.inbox.appendingPathComponent("link").path) == 0)
            expected["link"] = "input.symlink"
            #expect(mkfifo(scratch.inbox.appendingPathComponent("fifo").path, 0o644) == 0)
            expected["fifo"] = "input.not_regular_file"
            let staged = scratch.staging.appendingPathComponent("folder")
            try FileManager.default.createDirectory(at: staged.appendingPathComponent("inner"), withIntermediateDirectories: true)
            #expect(rename(staged.path, scratch.inbox.appendingPathComponent("folder").path) == 0)
            expected["folder"] = "input.directory"
            if mknod(scratch.inbox.appendingPathComponent("device").path, S_IFCHR | 0o644, dev_t(1 << 8 | 3) /* makedev(1, 3): /dev/null's numbers */) == 0 {
                expected["device"] = "input.not_regular_file"
            }

            // Odd names are fine inputs.
            try drop("with space.txt", Array("a\n".utf8), "ok")
            try drop("new\nline.txt", Array("b\n".utf8), "ok")
            let longName = String(repeating: "l", count: 251) + ".txt"
            try drop(longName, Array("c\n".utf8), "ok")
            let rawName: [UInt8] = [0x6E, 0x6F, 0x74, 0xFF, 0xFE, 0x2E, 0x74, 0x78, 0x74]
            try RawNames.drop(into: scratch, name: rawName, contents: Array("d\n".utf8))
            expected[rawName.map { String(format: "%02x", $0) }.joined()] = "ok"

            #expect(scratch.waitUntil(timeout: 30) { scratch.resultCount == expected.count }, "\(scratch.resultCount) of \(expected.count)\n\(daemon.log)")
            // Still serving after all that.
            try scratch.drop("after.txt", Array("still alive\n".utf8))
            expected["after.txt"] = "ok"
            #expect(scratch.waitUntil(timeout: 10) { scratch.resultCount == expected.count })

            let results = try scratch.resultsByInput()
            for (name, outcome) in expected {
                let document = results[name]
                if outcome == "ok" {
                    #expect(status(document) == "ok", "\(name): \(String(describing: document))")
                } else {
                    // A timeout has a status of its own (it may keep partial output).
                    let expectedStatus = outcome == "timeout" ? "timeout" : "error"
                    #expect(status(document) == expectedStatus && errorCode(document) == outcome, "\(name): expected \(outcome), got \(String(describing: document))")
                }
            }
            #expect(results.count == expected.count)
            #expect(((results["fine.png"]?["input"] as? [String: Any])?["kind"] as? String) == "image")
            #expect(((results["fine.wav"]?["input"] as? [String: Any])?["kind"] as? String) == "audio")

            // Result names: the raw bytes kept; the long name shortened within 255 bytes.
            let outboxNames = RawNames.entries(scratch.outbox)
            #expect(outboxNames.contains(rawName + Array(".json".utf8)))
            #expect(outboxNames.contains(Array("new\nline.txt.json".utf8)))
            #expect(outboxNames.allSatisfy { $0.count <= 255 })
            #expect(outboxNames.contains { String(decoding: $0, as: UTF8.self).hasPrefix("lll") && String(decoding: $0, as: UTF8.self).contains("~") })
            // Symlink target untouched, the link itself archived.
            #expect(FileManager.default.fileExists(atPath: "/etc/hostname"))
            #expect(scratch.inboxCount == 0)
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 10) == 0)
            let problems = try SchemaValidator.problems(in: [scratch.outbox.path])
            #expect(problems == nil, "\(problems ?? "")")
        }
    }
}
