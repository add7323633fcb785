import Foundation
import QuernMedia
import Testing

/// The band-limited resampler against soxr's very-high-quality mode and
/// against its own stated passband and stopband.
@Suite("Resampler")
struct ResamplerTests {
    /// The signal make_audio_goldens.py resamples with soxr: tones at 440,
    /// 3100 and 6900 Hz, plus one above the new Nyquist for downsampling.
    static func testSignal(rate: Int, seconds: Double = 0.5) -> [Float] {
        (0..<Int(Double(rate) * seconds)).map { index in
            let t = Double(index) / Double(rate)
            var x = 0.3 * sin(2 * .pi * 440 * t) + 0.2 * sin(2 * .pi * 3100 * t + 0.5)
                + 0.1 * sin(2 * .pi * 6900 * t + 1.0)
            if rate > 16_000 { x += 0.1 * sin(2 * .pi * min(11_000, 0.45 * Double(rate)) * t + 2.0) }
            return Float(x)
        }
    }

    /// Against soxr VHQ (make_audio_goldens.py) and, when downsampling,
    /// against the exact answer: the in-band tones evaluated at the output
    /// instants (the tone above 8 kHz must vanish). soxr itself is only
    /// ≈ 77 dB from that exact answer at 22050 and 44100 Hz (its passband
    /// ends below 6900 Hz), so the soxr bound is looser than the exact one.
    @Test(arguments: [(8000, 110.0), (22050, 75.0), (44100, 75.0), (48000, 110.0)])
    func matchesSoxrAndTheExactAnswer(rate: Int, minimumSNRToSoxr: Double) throws {
        let golden = try #require((AudioGoldens.root["resampler"] as? [String: Any])?["rates"] as? [String: Any])
        let reference = try #require(golden[String(rate)] as? [String: Any])
        let input = Self.testSignal(rate: rate)
        #expect(input.count == reference["input_count"] as? Int)
        let output = Resampler(inputRate: rate, outputRate: 16_000).process(input)
        let soxrCount = reference["output_count"] as? Int ?? -1
        #expect(output.count == soxrCount, "\(output.count) vs soxr \(soxrCount)")
        let begin = reference["begin"] as? Int ?? 0
        let expected = AudioGoldens.floats(reference["values"])
        let indices = Array(Swift.stride(from: begin, to: begin + 8 * expected.count, by: 8))
        let ours = indices.map { output[$0] }
        let toSoxr = SignalComparison(ours, reference: expected)
        print("resampler \(rate) → 16000 vs soxr VHQ: \(toSoxr)")
        #expect(toSoxr.snrDecibels > minimumSNRToSoxr, "\(toSoxr)")
        guard rate > 16_000 else { return }
        let exact = indices.map { index -> Float in
            let t = Double(index) / 16_000
            return Float(0.3 * sin(2 * .pi * 440 * t) + 0.2 * sin(2 * .pi * 3100 * t + 0.5)
                         + 0.1 * sin(2 * .pi * 6900 * t + 1.0))
        }
        let toExact = SignalComparison(ours, reference: exact)
        let soxrToExact = SignalComparison(expected, reference: exact)
        print("resampler \(rate) → 16000 vs exact: ours \(toExact); soxr \(soxrToExact)")
        #expect(toExact.snrDecibels > 100, "\(toExact)")
        #expect(toExact.maxError < 3e-6, "\(toExact)")
    }

    /// Amplitude of a sine after resampling, measured away from the edges by
    /// projection on the expected frequency.
    static func gain(frequency: Double, from rate: Int, to target: Int = 16_000) -> Double {
        let input = (0..<rate).map { Float(sin(2 * .pi * frequency * Double($0) / Double(rate))) }
        let output = Resampler(inputRate: rate, outputRate: target).process(input)
        let observed = frequency < Double(target) / 2 ? frequency : Double(target) - frequency.truncatingRemainder(dividingBy: Double(target))
        var sine = 0.0, cosine = 0.0
        let range = (target / 4)..<(3 * target / 4)
        for n in range {
            let phase = 2 * .pi * observed * Double(n) / Double(target)
            sine += Double(output[n]) * sin(phase)
            cosine += Double(output[n]) * cos(phase)
        }
        return 2 * (sine * sine + cosine * cosine).squareRoot() / Double(range.count)
    }

    @Test(arguments: [44100, 48000, 22050, 8000, 11025, 44101])
    func passbandIsFlat(rate: Int) {
        let lowNyquist = Double(min(rate, 16_000)) / 2
        for fraction in [0.05, 0.3, 0.6, 0.9] {
            let frequency = (fraction * lowNyquist).rounded()
            let gain = Self.gain(frequency: frequency, from: rate)
            #expect(abs(gain - 1) < 1e-4, "\(rate) Hz, \(frequency) Hz: gain \(gain)")
        }
    }

    @Test(arguments: [44100, 48000, 22050, 44101])
    func stopbandIsRejected(rate: Int) {
        for frequency in [8000.0 + 50, 9000, 10_500] where frequency < Double(rate) / 2 {
            let gain = Self.gain(frequency: frequency, from: rate)
            let decibels = 20 * log10(max(gain, 1e-12))
            #expect(decibels < -90, "\(rate) Hz, \(frequency) Hz folds back at \(decibels) dB")
        }
    }

    /// Block-by-block conversion (as the decoder feeds it) equals the
    /// whole-signal result, whatever the block sizes.
    @Test(arguments: [44100, 48000, 8000, 22050, 44101])
    func streamingEqualsWhole(rate: Int) {
        let input = Self.testSignal(rate: rate, seconds: 0.37)
        let resampler = Resampler(inputRate: rate, outputRate: 16_000)
        let whole = resampler.process(input)
        var stream = StreamingResampler(resampler)
        var offset = 0, block = 1
        while offset < input.count {
            let end = min(input.count, offset + block)
            input[offset..<end].withUnsafeBufferPointer { stream.append($0) }
            offset = end
            block = block * 3 + 7          // 1, 10, 37, 118, … sizes, small and large
        }
        let streamed = stream.finish()
        #expect(streamed.count == whole.count)
        #expect(streamed == whole)
    }

    @Test func identityAndCounts() {
        let samples: [Float] = [0.1, -0.2, 0.3]
        #expect(Resampler(inputRate: 16_000, outputRate: 16_000).process(samples) == samples)
        #expect(Resampler(inputRate: 44_100, outputRate: 16_000).outputCount(forInputCount: 44_100) == 16_000)
        #expect(Resampler(inputRate: 8000, outputRate: 16_000).outputCount(forInputCount: 3) == 6)
        #expect(Resampler(inputRate: 48_000, outputRate: 16_000).process([]).isEmpty)
        // A single sample still gives a finite output.
        #expect(Resampler(inputRate: 48_000, outputRate: 16_000).process([1]).allSatisfy { $0.isFinite })
    }
}
