import Foundation
import QuernMedia
@testable import QuernModels
import QuernTensor
import Testing

/// Timings of the audio front end, printed for scripts/bench-audio-frontend.py
/// (which runs faster-whisper's decode_audio + FeatureExtractor on the same
/// inputs and prints the ratios). Generous bounds only catch a gross regression.
@Suite("Audio front-end speed", .serialized)
struct AudioFrontEndSpeedTests {
    /// Median wall time of `runs` calls, in milliseconds.
    static func medianMilliseconds(runs: Int = 7, _ body: () throws -> Void) rethrows -> Double {
        var times: [Double] = []
        for _ in 0..<runs {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        return times.sorted()[runs / 2]
    }

    init() {
        if let threads = ProcessInfo.processInfo.environment["QUERN_BENCH_THREADS"].flatMap({ Int($0) }) {
            ComputeThreads.configure(threads: threads)
        }
    }

    /// The folded DFT (the default) and the plain [frames, 400] × [400, 402]
    /// product, timed side by side.
    @Test func logMelOfThirtySeconds() {
        let samples = (0..<480_000).map { Float(sin(Double($0) * 0.031) * 0.3 + sin(Double($0) * 0.57) * 0.05) }
        let folded = WhisperLogMel()
        let direct = WhisperLogMel(melBins: 80, sampleRate: 16_000, fftSize: 400, hopLength: 160, method: .direct)
        #expect(folded.method == .folded)
        var timings: [Double] = []
        for mel in [folded, direct] {
            _ = mel.compute(samples, paddingSamples: 160)
            timings.append(Self.medianMilliseconds { _ = mel.compute(samples, paddingSamples: 160) })
        }
        print("speed log-mel 30 s (3001 frames, \(ComputeThreads.count) threads): \(String(format: "%.2f", timings[0])) ms")
        print("speed log-mel 30 s with the plain DFT GEMM: \(String(format: "%.2f", timings[1])) ms")
        #expect(timings[0] < 500)
    }

    @Test(arguments: ["speech23_long_rp.wav", "fmt_rate_44100.wav", "fmt_stereo_44100.wav", "fmt_flac.flac", "fmt_mp3.mp3"])
    func decode(file: String) throws {
        let bytes = try SpeechCorpus.bytes(file)
        let audio = try AudioDecoder.decode(bytes, limits: .standard)
        let milliseconds = try Self.medianMilliseconds { _ = try AudioDecoder.decode(bytes, limits: .standard) }
        print("speed decode \(file) (\(String(format: "%.2f", audio.source.durationSeconds)) s audio): \(String(format: "%.2f", milliseconds)) ms")
        #expect(milliseconds < 2000)
    }
}
