/// The fixed-point filter weights of one axis of a Pillow resize: for each
/// output position of `positions`, the first source index, how many source
/// pixels it reads, and their weights scaled by 2^22 (Pillow's
/// PRECISION_BITS). Arrays are indexed from `positions.lowerBound`, so a
/// crop of a huge virtual resize costs only what the crop needs.
///
/// The computation reproduces Pillow's `precompute_coeffs` and
/// `normalize_coeffs_8bpc` operation for operation in Double — centre, the
/// rounded bounds, the filter evaluated at pixel centres, normalisation by
/// the sum, rounding half away from zero — so the integers are identical.
struct ResampleCoefficients {
    static let precisionBits = 22

    /// Weights per output position (`taps` slots each; unused slots are 0).
    let taps: Int
    let positions: Range<Int>
    let starts: [Int]
    let counts: [Int]
    let weights: [Int32]

    /// `sourceStart`/`sourceEnd` is the box on this axis, in Float as Pillow
    /// keeps it (the whole axis: 0 and `sourceSize`).
    init(sourceSize: Int, sourceStart: Float, sourceEnd: Float, outputSize: Int, positions: Range<Int>, filter: ResampleFilter) {
        let scale = Double(sourceEnd - sourceStart) / Double(outputSize)
        let filterScale = max(scale, 1.0)
        let support = filter.support * filterScale
        let taps = Int(support.rounded(.up)) * 2 + 1
        let inverseFilterScale = 1.0 / filterScale
        var starts = [Int](repeating: 0, count: positions.count)
        var counts = [Int](repeating: 0, count: positions.count)
        var weights = [Int32](repeating: 0, count: positions.count * taps)
        var exact = [Double](repeating: 0, count: taps)
        for position in positions {
            let slot = position - positions.lowerBound
            let center = Double(sourceStart) + (Double(position) + 0.5) * scale
            // Truncation toward zero, as C's (int) cast.
            let first = max(Int(center - support + 0.5), 0)
            let end = min(Int(center + support + 0.5), sourceSize)
            let count = max(end - first, 0)
            var total = 0.0
            for tap in 0..<count {
                let weight = filter.weight((Double(tap + first) - center + 0.5) * inverseFilterScale)
                exact[tap] = weight
                total += weight
            }
            for tap in 0..<count {
                var weight = exact[tap]
                if total != 0.0 { weight /= total }
                let scaled = weight * Double(1 << Self.precisionBits)
                weights[slot * taps + tap] = Int32(weight < 0 ? -0.5 + scaled : 0.5 + scaled)
            }
            starts[slot] = first
            counts[slot] = count
        }
        self.taps = taps
        self.positions = positions
        self.starts = starts
        self.counts = counts
        self.weights = weights
    }

    /// Pillow's clip8: the accumulator (which started at 2^21 for rounding)
    /// shifted down by 22 bits and clamped to 0…255.
    @inline(__always)
    static func clip8(_ accumulator: Int32) -> UInt8 {
        let value = accumulator >> Int32(precisionBits)
        return UInt8(clamping: value)
    }

    static let roundingBias = Int32(1) << Int32(precisionBits - 1)
}
