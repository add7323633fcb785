import Foundation
import QuernTensor

/// Whisper's log-mel spectrogram, computed exactly as faster-whisper 1.2.1's
/// `FeatureExtractor` does (and, with 30 s of padding, as Hugging Face's
/// `WhisperFeatureExtractor` does):
///
/// 1. `paddingSamples` zeros are appended to the signal (length N);
/// 2. the signal is reflect-padded by n_fft/2 on both sides (numpy "reflect":
///    the edge sample is not repeated) and cut into frames of n_fft every hop;
///    of the 1 + N/hop frames the LAST is dropped → N/hop frames (integer
///    division);
/// 3. each frame times a periodic Hann window (0.5 − 0.5·cos(2πn/n_fft)) goes
///    through a real DFT and becomes a power spectrum |X|² of n_fft/2+1 bins.
///    The DFT is a GEMM against a precomputed window·cos / window·sin basis,
///    after folding each frame about its centre: the window and the cosines
///    are even and the sines odd about n_fft/2, so Re X = (x[n] + x[N−n]) ·
///    cos-basis and Im X = (x[n] − x[N−n]) · sin-basis — half the work of the
///    plain [frames, 400] × [400, 402] product. Measured on 2 threads of a
///    busy machine for 30 s (3001 frames): the DFT GEMMs 15 ms folded against
///    23–34 ms plain, the whole log-mel 28 ms against 35 ms (faster-whisper's
///    NumPy FFT path: 61 ms). A radix FFT would need ~25 MFLOP instead of
///    0.5 GFLOP but was not written: the BLAS product already leaves the
///    log-mel a small fraction of a window's encoder time;
/// 4. 80 Slaney-scale, Slaney-normalised triangular filters (0 Hz … sr/2,
///    computed from the formula in `melFilters`) map it to mel bands;
/// 5. log10(max(mel, 1e-10)); then max(x, M − 8) where M is the maximum over
///    the WHOLE result (every frame of the padded signal, not per window);
///    then (x + 4) / 4.
///
/// How faster-whisper's `transcribe()` uses it, which a decoder must copy to
/// see the same numbers:
/// - the whole decoded signal is processed in one call with the default
///   `padding=160` — `compute(samples, paddingSamples: 160)` — giving
///   samples.count/160 + 1 frames, with the −8 clamp relative to the maximum
///   of the whole file;
/// - `content_frames` = frames − 1 = samples.count / 160
///   (`contentFrames(sampleCount:)`); the extra frame is never used;
/// - each 30 s window at frame offset `seek` takes
///   `segment_size = min(3000, content_frames − seek)` frames
///   `features[:, seek ..< seek + segment_size]` and pads them to 3000 frames
///   with ZEROS in the feature domain (`pad_or_trim`), not with the
///   log-mel of silence — `window(_:seek:contentFrames:)` does this;
/// - Hugging Face's extractor (the whisper-tiny-random fixture) instead pads
///   the audio itself to 480000 samples: `compute(samples, paddingSamples:
///   480000 − samples.count)` → exactly 3000 frames.
public struct WhisperLogMel: Sendable {
    public let melBins: Int
    public let sampleRate: Int
    public let fftSize: Int
    public let hopLength: Int
    /// Frequency bins of the one-sided spectrum, fftSize/2 + 1.
    public let frequencyBins: Int
    /// Mel filter bank [melBins, frequencyBins] (OpenAI's `mel_80` orientation;
    /// Hugging Face stores the transpose).
    public let filters: Tensor
    /// How the DFT is laid out as GEMMs (see the type's comment).
    enum DFTMethod: Sendable {
        /// frames [F, N] · basis [N, 2·bins]: column k window·cos(2πkn/N),
        /// column bins + k −window·sin(2πkn/N).
        case direct
        /// Frames folded about n = N/2 (even N only; `FrameLayout.foldedAboutCentre`):
        /// basis rows 0…N/2 are window·cos, rows N/2+1…N−1 −window·sin.
        case folded
    }
    let method: DFTMethod
    let basis: Tensor

    /// Frames in one 30 s Whisper window.
    public static let windowFrames = 3000

    public init(melBins: Int = 80, sampleRate: Int = 16_000, fftSize: Int = 400, hopLength: Int = 160) {
        self.init(melBins: melBins, sampleRate: sampleRate, fftSize: fftSize, hopLength: hopLength,
                  method: fftSize % 2 == 0 ? .folded : .direct)
    }

    init(melBins: Int, sampleRate: Int, fftSize: Int, hopLength: Int, method: DFTMethod) {
        precondition(melBins > 0 && sampleRate > 0 && fftSize > 1 && hopLength > 0, "invalid log-mel configuration")
        self.melBins = melBins
        self.sampleRate = sampleRate
        self.fftSize = fftSize
        self.hopLength = hopLength
        frequencyBins = fftSize / 2 + 1
        let filterValues = Self.melFilters(melBins: melBins, sampleRate: sampleRate, fftSize: fftSize)
        filters = Tensor(zeros: [melBins, frequencyBins])
        for index in 0..<filterValues.count { filters[flat: index] = Float(filterValues[index]) }
        precondition(method == .direct || fftSize % 2 == 0, "the folded DFT needs an even fftSize")
        self.method = method
        switch method {
        case .direct: basis = Self.windowedDFTBasis(fftSize: fftSize, bins: frequencyBins)
        case .folded: basis = Self.foldedDFTBasis(fftSize: fftSize, bins: frequencyBins)
        }
    }

    /// faster-whisper's `content_frames` for a signal of `sampleCount` samples
    /// processed with the default 160 samples of padding.
    public func contentFrames(sampleCount: Int) -> Int { sampleCount / hopLength }

    /// The log-mel features [melBins, (samples.count + paddingSamples) / hopLength].
    public func compute(_ samples: [Float], paddingSamples: Int) -> Tensor {
        let length = samples.count + max(0, paddingSamples)
        let frameCount = length / hopLength
        let output = Tensor(zeros: [melBins, frameCount])
        guard frameCount > 0 else { return output }

        let frames = reflectPaddedFrames(samples, paddedLength: length, frameLength: fftSize, hop: hopLength, frameCount: frameCount,
                                         layout: method == .folded ? .foldedAboutCentre : .plain)
        let power = powerSpectrum(realThenImaginary: realDFT(frames))   // [frames, bins]
        GEMM.run(MatrixView(filters), MatrixView(power), transposeB: true, into: MatrixView(output))
        return Self.logCompressed(output)
    }

    /// One 30 s window of features as faster-whisper's `generate_segments`
    /// slices it: frames seek ..< seek + min(windowFrames, contentFrames − seek)
    /// of `features`, then zeros up to `windowFrames`. Returns
    /// [melBins, windowFrames].
    public func window(_ features: Tensor, seek: Int, contentFrames: Int,
                       windowFrames: Int = WhisperLogMel.windowFrames) -> Tensor {
        precondition(features.rank == 2 && features.shape[0] == melBins, "features must be [\(melBins), frames]")
        let available = min(contentFrames, features.shape[1])
        let start = max(0, min(seek, available))
        let taken = min(windowFrames, available - start)
        guard taken > 0 else { return Tensor(zeros: [melBins, windowFrames]) }
        let slice = features.columns(start..<start + taken)
        return taken == windowFrames ? slice : concatenateLast([slice, Tensor(zeros: [melBins, windowFrames - taken])])
    }

    /// [Re | Im] of every frame's windowed DFT, by one or two GEMMs.
    private func realDFT(_ frames: Tensor) -> Tensor {
        let frameCount = frames.shape[0], bins = frequencyBins, size = fftSize
        let spectrum = Tensor(zeros: [frameCount, 2 * bins])
        switch method {
        case .direct:
            GEMM.run(MatrixView(frames), MatrixView(basis), into: MatrixView(spectrum))
        case .folded:
            let half = size / 2
            GEMM.run(MatrixView(frames, rows: frameCount, columns: half + 1, rowStride: size),
                     MatrixView(basis, rows: half + 1, columns: bins),
                     into: MatrixView(spectrum, rows: frameCount, columns: bins, rowStride: 2 * bins))
            GEMM.run(MatrixView(frames, offset: half + 1, rows: frameCount, columns: half - 1, rowStride: size),
                     MatrixView(basis, offset: (half + 1) * bins, rows: half - 1, columns: bins),
                     into: MatrixView(spectrum, offset: bins, rows: frameCount, columns: bins, rowStride: 2 * bins))
        }
        return spectrum
    }

    /// log10 with the 1e-10 floor, the (global max − 8) floor, then (x + 4)/4.
    private static func logCompressed(_ mel: Tensor) -> Tensor {
        var values = mel.scalars
        var maximum = -Float.infinity
        for index in values.indices {
            let logValue = log10f(max(values[index], 1e-10))
            values[index] = logValue
            maximum = max(maximum, logValue)
        }
        let floor = maximum - 8
        for index in values.indices { values[index] = (max(values[index], floor) + 4) / 4 }
        do { return try Tensor(shape: mel.shape, values: values) } catch { preconditionFailure("\(error)") }
    }

    /// The DFT basis with the periodic Hann window folded in.
    static func windowedDFTBasis(fftSize: Int, bins: Int) -> Tensor {
        let basis = Tensor(zeros: [fftSize, 2 * bins])
        for n in 0..<fftSize {
            let window = 0.5 - 0.5 * cos(2 * Double.pi * Double(n) / Double(fftSize))
            for k in 0..<bins {
                // Reduce k·n modulo N first so the angle is exact.
                let angle = 2 * Double.pi * Double((k * n) % fftSize) / Double(fftSize)
                basis[flat: n * 2 * bins + k] = Float(window * cos(angle))
                basis[flat: n * 2 * bins + bins + k] = Float(-window * sin(angle))
            }
        }
        return basis
    }

    /// The `.folded` basis [fftSize, bins]: rows 0…N/2 window·cos, rows
    /// N/2+1…N−1 −window·sin for n = 1…N/2−1.
    static func foldedDFTBasis(fftSize: Int, bins: Int) -> Tensor {
        let half = fftSize / 2
        let basis = Tensor(zeros: [fftSize, bins])
        for n in 0...half {
            let window = 0.5 - 0.5 * cos(2 * Double.pi * Double(n) / Double(fftSize))
            for k in 0..<bins {
                let angle = 2 * Double.pi * Double((k * n) % fftSize) / Double(fftSize)
                basis[flat: n * bins + k] = Float(window * cos(angle))
                if n >= 1 && n < half { basis[flat: (half + n) * bins + k] = Float(-window * sin(angle)) }
            }
        }
        return basis
    }

    /// Slaney mel filters [melBins × (fftSize/2+1)], row-major, as librosa's
    /// `filters.mel(htk=False, norm="slaney")` defines them: mel scale linear
    /// (200/3 Hz per mel) below 1 kHz and logarithmic (27 mels per factor
    /// 6.4) above; band edges evenly spaced in mel from 0 to sr/2; triangles
    /// scaled by 2 / (upper edge − lower edge) for constant energy per band.
    public static func melFilters(melBins: Int, sampleRate: Int, fftSize: Int) -> [Double] {
        let bins = fftSize / 2 + 1
        let linearStep = 200.0 / 3, logRegionStartHz = 1000.0
        let logRegionStartMel = logRegionStartHz / linearStep
        let logStep = log(6.4) / 27

        func melFromHz(_ hz: Double) -> Double {
            hz >= logRegionStartHz ? logRegionStartMel + log(hz / logRegionStartHz) / logStep : hz / linearStep
        }
        func hzFromMel(_ mel: Double) -> Double {
            mel >= logRegionStartMel ? logRegionStartHz * exp(logStep * (mel - logRegionStartMel)) : linearStep * mel
        }

        let maxMel = melFromHz(Double(sampleRate) / 2)
        let edges = (0..<(melBins + 2)).map { hzFromMel(maxMel * Double($0) / Double(melBins + 1)) }
        var weights = [Double](repeating: 0, count: melBins * bins)
        for band in 0..<melBins {
            let lower = edges[band], center = edges[band + 1], upper = edges[band + 2]
            let normalisation = 2 / (upper - lower)
            for bin in 0..<bins {
                let frequency = Double(bin) * Double(sampleRate) / Double(fftSize)
                let rising = (frequency - lower) / (center - lower)
                let falling = (upper - frequency) / (upper - center)
                weights[band * bins + bin] = max(0, min(rising, falling)) * normalisation
            }
        }
        return weights
    }
}
