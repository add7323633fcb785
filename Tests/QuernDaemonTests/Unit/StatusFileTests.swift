import Foundation
import QuernDaemon
import QuernPipelines
import QuernTestSupport
import Testing

@Suite struct StatusFileTests {
    static func status(pid: Int32) -> DaemonStatus {
        let job = JobReport(claimID: "18ec9479457fa1d2-000007", name: "talk.wav", kind: .audio, task: .transcribe, model: "whisper-tiny-en",
                            lane: "whisper-tiny-en", waitedSeconds: 0.5)
        return DaemonStatus(
            pid: pid, version: "0.1.0", startedAt: 1_800_000_000, takenAt: 1_800_000_060, ready: true,
            models: [ModelStatus(name: "whisper-tiny-en", tasks: [.transcribe], loaded: true, loadSeconds: nil, weightBytes: 0)],
            lanes: [LaneStatus(name: "whisper-tiny-en", queued: 2, running: 1, oldestWaitingName: "next.wav", oldestWaitingSeconds: 4.25)],
            running: [RunningJob(job: job, elapsedSeconds: 8, progress: .audio(doneSeconds: 90, totalSeconds: 300))],
            filesDone: 12, filesFailed: 1, residentBytes: 300 << 20)
    }

    @Test func aLiveDaemonsStatusReadsBackAsText() throws {
        let scratch = try Scratch()
        let path = scratch.root.appendingPathComponent("status.json").path
        let file = StatusFile(path: path)
        file.observe(.heartbeat(Self.status(pid: getpid())))
        let report = try StatusReport.read(path: path)
        #expect(report.isRunning)
        for fragment in ["running, pid \(getpid())", "up since 2027-01-15T08:00:00Z", "whisper-tiny-en (transcribe): loaded",
                         "talk.wav [transcribe on whisper-tiny-en] 8.0 s, 90 s of 300 s audio",
                         "whisper-tiny-en: 2 waiting, 1 running; oldest next.wav (4.2 s)", "12 done, 1 failed", "300 MiB resident"] {
            #expect(report.text.contains(fragment), "\(fragment) in\n\(report.text)")
        }
        #expect(report.document["running"]?.boolValue == true)
        #expect(report.document["running_jobs"]?.arrayValue?.count == 1 && report.document["lanes"]?.arrayValue?.count == 1)
    }

    @Test func aFileWhosePidIsGoneOrThatSaysStoppedIsNotRunning() throws {
        let scratch = try Scratch()
        let path = scratch.root.appendingPathComponent("status.json").path
        // A pid above the kernel's maximum is never alive.
        StatusFile(path: path).observe(.heartbeat(Self.status(pid: 4_194_305)))
        let stale = try StatusReport.read(path: path)
        #expect(!stale.isRunning && stale.text.contains("not running"), "\(stale.text)")
        let file = StatusFile(path: path)
        file.markStopped(Self.status(pid: getpid()))
        #expect(try !StatusReport.read(path: path).isRunning)
    }

    @Test func aMissingFileIsReportedAsSuch() throws {
        let scratch = try Scratch()
        #expect(throws: StatusReport.Failure.self) { try StatusReport.read(path: scratch.root.appendingPathComponent("none.json").path) }
    }
}
