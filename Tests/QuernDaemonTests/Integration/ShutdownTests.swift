import Foundation
import QuernTestSupport
import Testing

extension Integration {
    /// SIGTERM while the real Whisper model is busy on a long recording, with
    /// a grace period too short for the running window: the transcription is
    /// abandoned mid-computation, and the process must still leave with the
    /// documented code 0. (Leaving through exit() tore the libraries down
    /// under the abandoned pipeline: SIGSEGV or a hang after "stopped".)
    /// scripts/soak-sigterm.py repeats this 20 times on a 30-minute recording.
    @Suite struct Shutdown {
        @Test func sigtermDuringALongTranscriptionExitsZero() throws {
            let models = ImageRun.models
            guard FileManager.default.fileExists(atPath: models + "/whisper-tiny-en/model.bin") else {
                Issue.record("Whisper is missing from \(models): run scripts/fetch-models.sh"); return
            }
            let recording = Fixtures.wav(samples: 16_000 * 600)
            for round in 0..<2 {
                let scratch = try Scratch()
                let daemon = try DaemonProcess(scratch: scratch, arguments: ["--models", models, "--shutdown-grace", "0.5"],
                                               logName: "round-\(round).log", diagnostic: false)
                #expect(daemon.waitUntilServing(timeout: 60), "\(daemon.log)")
                try scratch.drop("long.wav", recording)
                let running = scratch.waitUntil(timeout: 30) {
                    scratch.entries(scratch.work).contains { scratch.entries(scratch.work.appendingPathComponent($0)).contains(".running") }
                }
                #expect(running, "\(daemon.log)")
                usleep(UInt32(1_500_000 + round * 1_000_000))
                daemon.signal(SIGTERM)
                #expect(daemon.waitForExit(timeout: 20) == 0, "\(daemon.log)")
                let claims = scratch.entries(scratch.work)
                #expect(claims.count == 1 && scratch.entries(scratch.work.appendingPathComponent(claims[0])).contains(".handed-back"),
                        "the recording is handed back: \(claims)")
            }
        }
    }
}
