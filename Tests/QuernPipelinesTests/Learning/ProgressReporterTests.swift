import QuernPipelines
import Synchronization
import Testing

@Suite struct ProgressReporterTests {
    /// A clock the test moves, and everything written.
    final class Recorder: Sendable {
        let time = Mutex(0.0)
        let lines = Mutex<[String]>([])
        var now: @Sendable () -> Double { { self.time.withLock { $0 } } }
        var write: @Sendable (String) -> Void { { text in self.lines.withLock { $0.append(text) } } }
        func advance(_ seconds: Double) { time.withLock { $0 += seconds } }
        var written: [String] { lines.withLock { $0 } }
    }

    @Test func terminalLineIsRedrawnAtMostTenTimesASecond() {
        let recorder = Recorder()
        let progress = ProgressReporter(label: "features", total: 100, output: .terminal(recorder.write), now: recorder.now)
        progress.skip(40)  // cache hits: done, but not part of the rate
        // Updates every 1/32 s (exact in binary) for a second: a redraw
        // each 4th, the first ≥ 0.1 s after the one before.
        for _ in 0..<32 {
            recorder.advance(1.0 / 32)
            progress.advance(by: 1)
        }
        #expect(recorder.written.count == 8)
        #expect(recorder.written.allSatisfy { $0.hasPrefix("\r") && $0.hasSuffix("\u{1B}[K") })
        // At 0.375 s: 52 done, 12 of them worked → 32 examples/s, 48 left → ETA 0:02.
        let middle = recorder.written[2]
        #expect(middle == "\rfeatures 52/100 52% 32.0 examples/s ETA 0:02\u{1B}[K", "\(middle)")
        recorder.advance(0.5)
        progress.advance(by: 28)
        progress.finish()
        progress.finish()
        #expect(recorder.written.count == 10)
        #expect(recorder.written.last == "\rfeatures 100/100 100% 40.0 examples/s\u{1B}[K\n")
    }

    @Test func logLinesEveryFiveSecondsAndASummary() {
        let recorder = Recorder()
        let progress = ProgressReporter(label: "features", total: 1000, unit: "files", output: .log(recorder.write), now: recorder.now)
        for _ in 0..<96 {
            recorder.advance(0.125)
            progress.advance(by: 5)
        }
        #expect(recorder.written.count == 2)
        #expect(recorder.written[0] == "features: 200/1000 20% 40.0 files/s ETA 0:20")
        progress.finish()
        #expect(recorder.written.last == "features: done, 480 files in 0:12 (40.0 files/s)")
        #expect(!recorder.written.contains { $0.contains("\r") || $0.contains("\n") })
    }

    @Test func durationsAreHumanReadable() {
        let recorder = Recorder()
        let progress = ProgressReporter(label: "epochs", total: 10_000, unit: "epochs", output: .log(recorder.write), now: recorder.now)
        recorder.advance(5)
        progress.advance(by: 1)
        #expect(recorder.written == ["epochs: 1/10000 0% 0.2 epochs/s ETA 13:53:15"])
    }
}
