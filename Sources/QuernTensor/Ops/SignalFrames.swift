/// Short-time analysis of a 1-D signal: overlapping frames for a DFT done as
/// a GEMM, and the power spectrum of its result (Whisper's log-mel front end).

/// How `reflectPaddedFrames` lays out each frame of length N.
public enum FrameLayout: Sendable {
    /// The samples as they are.
    case plain
    /// Folded about n = N/2 (N even): positions 0…N/2 hold x[n] + x[N−n]
    /// (x[0] and x[N/2] alone), positions N/2+1…N−1 hold x[n] − x[N−n] for
    /// n = 1…N/2−1. A window and cosines even about N/2 and sines odd about
    /// it then need only the sums or only the differences: half the DFT's
    /// multiplications.
    case foldedAboutCentre
}

/// Frames [frameCount, frameLength] of `samples` extended with zeros to
/// `paddedLength`, then reflect-padded by frameLength/2 on both sides
/// (numpy's "reflect": the edge sample is not repeated); frame f starts at
/// f·hop in the reflect-padded signal, so it is centred on sample f·hop.
public func reflectPaddedFrames(_ samples: [Float], paddedLength: Int, frameLength: Int, hop: Int, frameCount: Int,
                                layout: FrameLayout) -> Tensor {
    precondition(frameLength > 0 && hop > 0 && frameCount >= 0 && paddedLength >= samples.count,
                 "reflectPaddedFrames: invalid framing (length \(frameLength), hop \(hop), \(frameCount) frames)")
    precondition(layout == .plain || frameLength % 2 == 0, "reflectPaddedFrames: a folded frame needs an even length")
    let frames = Tensor(zeros: [frameCount, frameLength])
    if frameCount == 0 { return frames }
    let half = frameLength / 2, size = frameLength
    samples.withUnsafeBufferPointer { signal in
        frames.withMutablePointer { destination in
            parallelFor(frameCount, grain: 64) { range in
                var edgeFrame = [Float](repeating: 0, count: size)
                for frame in range {
                    let out = destination + frame * size
                    let first = frame * hop - half  // index in the unpadded signal
                    if first >= 0 && first + size <= signal.count {
                        place(signal.baseAddress! + first, into: out, size: size, layout: layout)
                        continue
                    }
                    // Near an end: gather the frame through the reflection first.
                    for offset in 0..<size {
                        let index = reflectIndex(first + offset, length: paddedLength)
                        edgeFrame[offset] = index < signal.count ? signal[index] : 0
                    }
                    edgeFrame.withUnsafeBufferPointer { place($0.baseAddress!, into: out, size: size, layout: layout) }
                }
            }
        }
    }
    return frames
}

/// Copies one frame of `size` samples into `out` in `layout`.
@inline(__always)
private func place(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, size: Int, layout: FrameLayout) {
    guard layout == .foldedAboutCentre else {
        out.update(from: x, count: size)
        return
    }
    let half = size / 2
    out[0] = x[0]
    out[half] = x[half]
    for n in 1..<half {
        out[n] = x[n] + x[size - n]
        out[half + n] = x[n] - x[size - n]
    }
}

/// numpy's "reflect" index into a signal of `length` (the edge is not
/// repeated; an index further out than the signal is long keeps
/// reflecting, as np.pad does).
public func reflectIndex(_ index: Int, length: Int) -> Int {
    guard length > 1 else { return 0 }
    if index >= 0 && index < length { return index }
    let period = 2 * (length - 1)
    var folded = index % period
    if folded < 0 { folded += period }
    return folded < length ? folded : period - folded
}

/// |X|² per bin: `spectrum` [frames, 2·bins] holds each frame's real parts
/// then its imaginary parts; the result is [frames, bins].
public func powerSpectrum(realThenImaginary spectrum: Tensor) -> Tensor {
    precondition(spectrum.rank == 2 && spectrum.shape[1] % 2 == 0, "powerSpectrum takes [frames, 2·bins], got \(spectrum.shape)")
    let frameCount = spectrum.shape[0], bins = spectrum.shape[1] / 2
    let power = Tensor(zeros: [frameCount, bins])
    if power.count == 0 { return power }
    spectrum.withPointer { complex in
        power.withMutablePointer { destination in
            parallelFor(frameCount, grain: 64) { range in
                for frame in range {
                    let row = complex + frame * 2 * bins, out = destination + frame * bins
                    for bin in 0..<bins {
                        let real = row[bin], imaginary = row[bins + bin]
                        out[bin] = real * real + imaginary * imaginary
                    }
                }
            }
        }
    }
    return power
}
