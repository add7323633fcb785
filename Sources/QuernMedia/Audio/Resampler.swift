import Foundation
import QuernTensor
import Synchronization

/// Band-limited sample-rate conversion between any two integer rates: a
/// polyphase windowed-sinc (Kaiser) low-pass evaluated at each output
/// instant, zero-phase (output sample n sits exactly at input time
/// n · inputRate / outputRate; no delay to compensate).
///
/// Quality, relative to the Nyquist frequency of the lower of the two rates
/// (8 kHz when converting to 16 kHz):
/// - passband edge 0.90 (7.2 kHz): ripple within ±1e-5 (≈ ±0.0001 dB);
/// - −6 dB point 0.95;
/// - stopband from 1.00 (8 kHz): attenuation ≥ 100 dB (Kaiser β = 10.06),
///   so nothing above the new Nyquist folds back into the band Whisper's mel
///   filters read;
/// - filter length ≈ 130 taps at the lower rate (each output sample reads
///   ≈ 130 · max(1, inputRate/outputRate) input samples).
/// When one coefficient row per output phase of the reduced ratio fits in
/// `exactTableLimit` coefficients, every phase is exact; otherwise (e.g.
/// 44101 → 16000, 16000 phases) rows sit at 1/phases steps (64…2048 of them)
/// and are linearly interpolated, an error below −115 dB. Outside the signal
/// the input counts as zero.
public struct Resampler: Sendable {
    public let inputRate: Int
    public let outputRate: Int
    /// Passband edge, stopband start and attenuation, as documented above.
    public static let passbandEdge = 0.90
    public static let stopbandStart = 1.00
    public static let stopbandAttenuationDecibels = 100.0
    static let exactTableLimit = 1 << 22
    static let interpolatedTableLimit = 1 << 21

    /// Output samples per `downFactor` input samples: rates divided by their gcd.
    let upFactor: Int
    let downFactor: Int
    /// Coefficient rows stored (rows 0…phases, the last one for interpolation).
    let phases: Int
    let taps: Int
    /// Taps reach `reach − 1` samples before and `reach` after an instant's integer part.
    let reach: Int
    let table: [Float]

    /// Rates must be positive.
    public init(inputRate: Int, outputRate: Int) {
        precondition(inputRate > 0 && outputRate > 0, "sample rates must be positive")
        self.inputRate = inputRate
        self.outputRate = outputRate
        let divisor = Self.gcd(inputRate, outputRate)
        upFactor = outputRate / divisor
        downFactor = inputRate / divisor

        // Kaiser design: N ≈ (A − 7.95) / (2.285 · Δω) taps at the lower rate,
        // Δω = (stopband − passband) · π; β = 0.1102 · (A − 8.7).
        let attenuation = Self.stopbandAttenuationDecibels
        let transition = (Self.stopbandStart - Self.passbandEdge) * Double.pi
        let lowRateTaps = (attenuation - 7.95) / (2.285 * transition)
        let beta = 0.1102 * (attenuation - 8.7)
        // Everything below is in input samples: a downsampler's kernel is
        // stretched by inputRate/outputRate.
        let stretch = max(1.0, Double(inputRate) / Double(outputRate))
        let halfWidth = (lowRateTaps / 2 + 1) * stretch
        let cutoff = (Self.passbandEdge + Self.stopbandStart) / 2 / stretch
        reach = Int(halfWidth.rounded(.up))
        taps = 2 * reach
        if (upFactor + 1) * taps <= Self.exactTableLimit {
            phases = upFactor
        } else {
            phases = min(2048, max(64, Self.interpolatedTableLimit / taps))
        }

        var table = [Float](repeating: 0, count: (phases + 1) * taps)
        let besselOfBeta = Self.besselI0(beta)
        var row = [Double](repeating: 0, count: taps)
        for phase in 0...phases {
            let fraction = Double(phase) / Double(phases)
            var sum = 0.0
            for tap in 0..<taps {
                // Distance from the output instant to input sample (integer part + tap − reach + 1).
                let distance = fraction - Double(tap - reach + 1)
                let x = distance / halfWidth
                guard abs(x) < 1 else { row[tap] = 0; continue }
                let window = Self.besselI0(beta * (1 - x * x).squareRoot()) / besselOfBeta
                let argument = Double.pi * cutoff * distance
                let sinc = argument == 0 ? 1 : sin(argument) / argument
                row[tap] = cutoff * sinc * window
                sum += row[tap]
            }
            // Unit gain at DC for every phase, so a constant stays constant.
            for tap in 0..<taps { table[phase * taps + tap] = Float(row[tap] / sum) }
        }
        self.table = table
    }

    /// Output samples produced for `inputCount` input samples:
    /// inputCount · outputRate / inputRate rounded to the nearest integer
    /// (halves up), the count FFmpeg's resampler — and so faster-whisper —
    /// gives. Every such output instant lies inside the input.
    public func outputCount(forInputCount inputCount: Int) -> Int {
        (inputCount * upFactor + downFactor / 2) / downFactor
    }

    /// Filters already designed, by (input, output) rate: designing one costs
    /// a few milliseconds of Bessel-function evaluations, and a daemon sees
    /// the same few rates again and again. At most `cacheLimit` are kept.
    private static let cache = Mutex<[RatePair: Resampler]>([:])
    private static let cacheLimit = 16

    private struct RatePair: Hashable {
        let input: Int
        let output: Int
    }

    /// The resampler for these rates, designed once and then reused.
    public static func shared(inputRate: Int, outputRate: Int) -> Resampler {
        let key = RatePair(input: inputRate, output: outputRate)
        if let found = cache.withLock({ $0[key] }) { return found }
        let designed = Resampler(inputRate: inputRate, outputRate: outputRate)
        cache.withLock { entries in
            if entries.count >= cacheLimit { entries.removeAll() }
            entries[key] = designed
        }
        return designed
    }

    /// The whole signal converted; output sample n is the filtered input at
    /// time n · inputRate / outputRate.
    public func process(_ input: [Float]) -> [Float] {
        var stream = StreamingResampler(self)
        input.withUnsafeBufferPointer { stream.append($0) }
        return stream.finish()
    }

    /// True when the rates are equal and samples pass through unchanged.
    var isIdentity: Bool { upFactor == downFactor }

    /// First input sample output n reads (its window is `taps` long).
    func windowStart(ofOutput n: Int) -> Int { n * downFactor / upFactor - reach + 1 }

    /// The last output whose whole window ends before input index `end`.
    func lastOutput(withWindowBefore end: Int) -> Int {
        // windowStart(n) + taps ≤ end  ⇔  ⌊n·M/L⌋ ≤ end − reach − 1.
        let wholeLimit = end - reach - 1
        guard wholeLimit >= 0 else { return -1 }
        return ((wholeLimit + 1) * upFactor - 1) / downFactor
    }

    /// Outputs `outputs` into `destination[0...]`, reading input index i at
    /// `source[i − sourceStart]`; every window must lie inside `source`.
    func compute(outputs: Range<Int>, source: UnsafePointer<Float>, sourceStart: Int,
                 into destination: UnsafeMutablePointer<Float>) {
        let exact = phases == upFactor
        table.withUnsafeBufferPointer { coefficients in
            let coefficientBase = coefficients.baseAddress!
            parallelFor(outputs.count, grain: 4096) { range in
                for offset in range {
                    let n = outputs.lowerBound + offset
                    let position = n * downFactor
                    let whole = position / upFactor, remainder = position % upFactor
                    let window = source + (whole - reach + 1 - sourceStart)
                    if exact {
                        destination[offset] = vectorDot(coefficientBase + remainder * taps, window, count: taps)
                    } else {
                        let place = Double(remainder) * Double(phases) / Double(upFactor)
                        let phase = min(Int(place), phases - 1)
                        let weight = Float(place - Double(phase))
                        let lower = vectorDot(coefficientBase + phase * taps, window, count: taps)
                        let upper = vectorDot(coefficientBase + (phase + 1) * taps, window, count: taps)
                        destination[offset] = lower + weight * (upper - lower)
                    }
                }
            }
        }
    }

    static func gcd(_ a: Int, _ b: Int) -> Int {
        var (a, b) = (a, b)
        while b != 0 { (a, b) = (b, a % b) }
        return a
    }

    /// The modified Bessel function I0 by its power series (converges fast for
    /// the arguments a Kaiser window uses, ≤ β ≈ 10).
    static func besselI0(_ x: Double) -> Double {
        var sum = 1.0, term = 1.0
        let quarterSquare = x * x / 4
        var k = 1.0
        while term > sum * 1e-17 {
            term *= quarterSquare / (k * k)
            sum += term
            k += 1
        }
        return sum
    }
}
