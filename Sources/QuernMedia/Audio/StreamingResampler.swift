/// `Resampler` fed block by block: only the input still needed by a future
/// output (one filter length) is kept, so a long high-rate file never sits
/// in memory at its source rate — only the converted signal grows. The
/// result equals `Resampler.process` on the whole input.
public struct StreamingResampler: Sendable {
    public let resampler: Resampler
    /// Input samples from absolute index `pendingStart` on; indices below 0
    /// are the zeros before the signal.
    private var pending: [Float]
    private var pendingStart: Int
    private var inputCount = 0
    private var output: [Float] = []

    public init(_ resampler: Resampler) {
        self.resampler = resampler
        pending = [Float](repeating: 0, count: resampler.taps)
        pendingStart = -resampler.taps
    }

    /// Converts as much as the input so far allows.
    public mutating func append(_ samples: UnsafeBufferPointer<Float>) {
        inputCount += samples.count
        if resampler.isIdentity {
            output.append(contentsOf: samples)
            return
        }
        pending.append(contentsOf: samples)
        drain(upTo: Int.max)
    }

    /// The converted signal: the remaining outputs read zeros past the end.
    public mutating func finish() -> [Float] {
        if !resampler.isIdentity {
            pending.append(contentsOf: repeatElement(0, count: resampler.taps))
            drain(upTo: resampler.outputCount(forInputCount: inputCount))
        }
        let result = output
        output = []
        return result
    }

    private mutating func drain(upTo limit: Int) {
        let first = output.count
        let last = min(limit - 1, resampler.lastOutput(withWindowBefore: pendingStart + pending.count))
        guard last >= first else { return }
        let count = last - first + 1
        output.append(contentsOf: repeatElement(0, count: count))
        let start = pendingStart
        pending.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { destination in
                resampler.compute(outputs: first..<(last + 1), source: source.baseAddress!, sourceStart: start,
                                  into: destination.baseAddress! + first)
            }
        }
        // Drop input no later output reads.
        let keepFrom = resampler.windowStart(ofOutput: last + 1)
        let drop = min(pending.count, max(0, keepFrom - pendingStart))
        if drop > 0 {
            pending.removeFirst(drop)
            pendingStart += drop
        }
    }
}
