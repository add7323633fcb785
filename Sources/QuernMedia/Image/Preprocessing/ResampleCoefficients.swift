/// One axis of a Pillow resize: where each output position reads its source
/// pixels, and their fixed-point weights (2^22, Pillow's PRECISION_BITS).
///
/// The computation reproduces Pillow's `precompute_coeffs` and
/// `normalize_coeffs_8bpc` operation for operation in Double — centre, the
/// rounded bounds, the filter evaluated at pixel centres, normalisation by
/// the sum, rounding half away from zero — so the integers are identical.
/// Unlike Pillow, nothing here allocates per output: the weights of one
/// position are written into the caller's buffer on demand, so an extreme
/// downscale (millions of taps per output) costs one output's taps at a time.
struct ResampleAxis: Sendable {
    static let precisionBits = 22
    static let roundingBias = Int32(1) << Int32(precisionBits - 1)

    let sourceSize: Int
    let sourceStart: Double
    let scale: Double
    let support: Double
    let inverseFilterScale: Double
    let filter: ResampleFilter
    /// Most source pixels one output reads (Pillow's `ksize`).
    let maxTaps: Int

    /// `sourceStart`/`sourceEnd` is the box on this axis, in Float as Pillow
    /// keeps it (the whole axis: 0 and `sourceSize`).
    init(sourceSize: Int, sourceStart: Float = 0, sourceEnd: Float, outputSize: Int, filter: ResampleFilter) {
        let scale = Double(sourceEnd - sourceStart) / Double(max(outputSize, 1))
        let filterScale = max(scale, 1.0)
        self.sourceSize = sourceSize
        self.sourceStart = Double(sourceStart)
        self.scale = scale
        self.support = filter.support * filterScale
        self.inverseFilterScale = 1.0 / filterScale
        self.filter = filter
        self.maxTaps = Int(support.rounded(.up)) * 2 + 1
    }

    @inline(__always)
    private func center(of position: Int) -> Double {
        sourceStart + (Double(position) + 0.5) * scale
    }

    /// The first source index `position` reads and how many it reads.
    @inline(__always)
    func bounds(of position: Int) -> (first: Int, count: Int) {
        let center = center(of: position)
        // Truncation toward zero, as C's (int) cast.
        let first = max(Int(center - support + 0.5), 0)
        let end = min(Int(center + support + 0.5), sourceSize)
        return (first, min(max(end - first, 0), maxTaps))
    }

    /// The source pixels the output positions `positions` read between
    /// them: from the lowest first tap to the highest last tap (empty when
    /// they read none).
    func sourceSpan(of positions: Range<Int>) -> Range<Int> {
        var lower = sourceSize, upper = 0
        for position in positions {
            let (first, count) = bounds(of: position)
            guard count > 0 else { continue }
            lower = min(lower, first)
            upper = max(upper, first + count)
        }
        return lower < upper ? lower..<upper : 0..<0
    }

    /// Writes `position`'s `count` weights into `weights` (room for
    /// `maxTaps`), using `scratch` (room for `maxTaps` Doubles).
    @discardableResult
    func weights(of position: Int, into weights: UnsafeMutablePointer<Int32>,
                 scratch: UnsafeMutablePointer<Double>) -> (first: Int, count: Int) {
        let center = center(of: position)
        let (first, count) = bounds(of: position)
        var total = 0.0
        for tap in 0..<count {
            let weight = filter.weight((Double(tap + first) - center + 0.5) * inverseFilterScale)
            scratch[tap] = weight
            total += weight
        }
        for tap in 0..<count {
            var weight = scratch[tap]
            if total != 0.0 { weight /= total }
            let scaled = weight * Double(1 << Self.precisionBits)
            weights[tap] = Int32(weight < 0 ? -0.5 + scaled : 0.5 + scaled)
        }
        return (first, count)
    }

    /// Pillow's clip8: the accumulator (which started at 2^21 for rounding)
    /// shifted down by 22 bits and clamped to 0…255.
    @inline(__always)
    static func clip8(_ accumulator: Int32) -> UInt8 {
        let value = accumulator >> Int32(precisionBits)
        return UInt8(clamping: value)
    }
}

/// The weights of the output positions `positions` of one axis, stored
/// compactly: each position keeps only its own taps (`offsets[i] ..<
/// offsets[i] + counts[i]` in `weights`), not a `maxTaps` slot each.
/// Built only when that is small (`entries(…)` under a caller's bound);
/// otherwise weights are computed position by position as they are needed.
struct ResampleCoefficients {
    let positions: Range<Int>
    let starts: [Int]
    let counts: [Int]
    let offsets: [Int]
    let weights: [Int32]

    /// An upper bound on the weights a table for `positions` holds.
    static func entries(_ axis: ResampleAxis, positions: Range<Int>) -> Int {
        let (product, overflow) = positions.count.multipliedReportingOverflow(by: axis.maxTaps)
        return overflow ? Int.max : product
    }

    init(_ axis: ResampleAxis, positions: Range<Int>) {
        var starts = [Int](repeating: 0, count: positions.count)
        var counts = [Int](repeating: 0, count: positions.count)
        var offsets = [Int](repeating: 0, count: positions.count)
        var total = 0
        for position in positions {
            let slot = position - positions.lowerBound
            let (first, count) = axis.bounds(of: position)
            starts[slot] = first
            counts[slot] = count
            offsets[slot] = total
            total += count
        }
        var weights = [Int32](repeating: 0, count: total)
        withUnsafeTemporaryAllocation(of: Double.self, capacity: axis.maxTaps) { scratch in
            weights.withUnsafeMutableBufferPointer { target in
                guard let base = target.baseAddress, let scratch = scratch.baseAddress else { return }
                for position in positions {
                    let slot = position - positions.lowerBound
                    axis.weights(of: position, into: base + offsets[slot], scratch: scratch)
                }
            }
        }
        self.positions = positions
        self.starts = starts
        self.counts = counts
        self.offsets = offsets
        self.weights = weights
    }
}
