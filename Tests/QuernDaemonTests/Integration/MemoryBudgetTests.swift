import Foundation
import QuernTestSupport
import Testing

extension Integration {
    @Suite struct MemoryBudget {
        /// Peak memory is bounded by --max-memory, not by the queue depth:
        /// inputs wait as claims on disk until their estimated peak fits. (With
        /// every queue slot holding a file's bytes, 16 files of 8 MB took the
        /// diagnostic daemon to 300 MB; with the budget it peaks near 70 MB.) A file that could never fit gets
        /// `input.too_large` naming the budget instead of waiting forever.
        @Test func peakMemoryStaysUnderMaxMemory() throws {
            let scratch = try Scratch()
            let line = Array(String(repeating: "memory budget ", count: 73).utf8) + [0x0A]
            var big: [UInt8] = []
            while big.count < 8 << 20 { big += line }
            for index in 0..<16 { try scratch.drop("big-\(index).txt", big) }
            let huge = big + big
            try scratch.drop("too-big-for-the-budget.txt", huge)
            let daemon = try DaemonProcess(scratch: scratch, arguments: [
                "--max-memory", "160M", "--max-text-chars", "100000000", "--diagnostic-delay-ms", "100",
            ])
            #expect(daemon.waitUntilServing(), "\(daemon.log)")
            #expect(scratch.waitUntil(timeout: 120) { scratch.resultCount == 17 }, "\(daemon.log)")
            let peakKilobytes = daemon.peakResidentKilobytes
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 10) == 0)
            #expect(peakKilobytes != nil && peakKilobytes! < 160 * 1024, "peak RSS \(String(describing: peakKilobytes)) kB over --max-memory 160M")
            let results = try scratch.resultsByInput()
            for index in 0..<16 {
                #expect(status(results["big-\(index).txt"]) == "ok", "\(String(describing: results["big-\(index).txt"]))")
            }
            let refused = results["too-big-for-the-budget.txt"]
            #expect(errorCode(refused) == "input.too_large")
            #expect(((refused?["error"] as? [String: Any])?["message"] as? String)?.contains("--max-memory") == true, "\(String(describing: refused))")
        }
    }
}
