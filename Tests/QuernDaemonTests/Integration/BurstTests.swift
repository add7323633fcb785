import Foundation
import QuernTestSupport
import Testing

extension Integration {
    @Suite struct Bursts {
        @Test func aThousandFilesAtOnceGiveAThousandWholeResults() throws {
            let scratch = try Scratch()
            let count = 1000
            for index in 0..<count {
                try Data("burst file \(index)\n".utf8).write(to: scratch.staging.appendingPathComponent("burst-\(index).txt"))
            }
            let daemon = try DaemonProcess(scratch: scratch)
            #expect(daemon.waitUntilServing(), "\(daemon.log)")
            for index in 0..<count {
                let name = "burst-\(index).txt"
                #expect(rename(scratch.staging.appendingPathComponent(name).path, scratch.inbox.appendingPathComponent(name).path) == 0)
            }
            #expect(scratch.waitUntil(timeout: 120) { scratch.resultCount == count }, "\(scratch.resultCount) results")
            let results = try scratch.resultsByInput()
            #expect(results.count == count)
            for index in 0..<count {
                let document = results["burst-\(index).txt"]
                #expect(status(document) == "ok", "burst-\(index).txt: \(String(describing: document))")
                #expect((document?["input"] as? [String: Any])?["size"] as? Int == "burst file \(index)\n".utf8.count)
            }
            #expect(scratch.temporaryResults.isEmpty)
            #expect(scratch.waitUntil(timeout: 10) { scratch.entries(scratch.work).isEmpty })
            #expect(scratch.entries(scratch.done).count == count)
            #expect(scratch.inboxCount == 0)
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 10) == 0)
            let problems = try SchemaValidator.problems(in: [scratch.outbox.path])
            #expect(problems == nil, "\(problems ?? "")")
        }
    }
}
