import ArgumentParser
import Dispatch
import Foundation
import QuernMedia
import QuernModels
import QuernTensor

/// `quern bench audio`: the audio front end alone — libsndfile decoding to
/// 16 kHz mono and Whisper's log-mel of a 30 s signal — the way
/// scripts/bench-audio-frontend.py reads it next to faster-whisper's
/// decode_audio + FeatureExtractor. Prints one `speed …: N ms` line per step
/// (median of `runs` after a warm-up).
struct AudioBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audio", abstract: "Measures audio decoding and the Whisper log-mel (front end only).")

    @Argument(help: ArgumentHelp("Audio files to decode.", valueName: "file"))
    var files: [String] = []

    @Option(help: "Compute threads.")
    var threads: Int = 2

    @Option(help: "Timed runs per step; the median is printed.")
    var runs: Int = 7

    func run() throws {
        try BLAS.load()
        guard threads > 0, runs > 0 else { throw ValidationError("--threads and --runs must be positive") }
        ComputeThreads.configure(threads: threads)

        // The signal scripts/bench-audio-frontend.py gives FeatureExtractor.
        let samples = (0..<480_000).map { Float(sin(Double($0) * 0.031) * 0.3 + sin(Double($0) * 0.57) * 0.05) }
        let logMel = WhisperLogMel()
        let logMelTime = median { _ = logMel.compute(samples, paddingSamples: 160) }
        print("speed log-mel 30 s (3001 frames, \(ComputeThreads.count) threads): \(format(logMelTime)) ms")

        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
            let bytes = [UInt8](data)
            let audio = try AudioDecoder.decode(bytes, limits: .standard)
            var failure: Error?
            let time = median {
                do { _ = try AudioDecoder.decode(bytes, limits: .standard) } catch { failure = error }
            }
            if let failure { throw failure }
            let name = (file as NSString).lastPathComponent
            print("speed decode \(name) (\(String(format: "%.2f", audio.source.durationSeconds)) s audio): \(format(time)) ms")
        }
    }

    /// Median wall time of `runs` calls after one warm-up, in milliseconds.
    private func median(_ body: () -> Void) -> Double {
        body()
        var times: [Double] = []
        for _ in 0..<runs {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        return times.sorted()[runs / 2]
    }

    private func format(_ milliseconds: Double) -> String { String(format: "%.2f", milliseconds) }
}
