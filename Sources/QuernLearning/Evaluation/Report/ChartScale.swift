import Foundation

/// A linear map from data values to SVG coordinates, and the "nice" round
/// ticks (1, 2, 2.5 or 5 times a power of ten) that frame a data range.
struct ChartScale {
    let lower: Double
    let upper: Double
    let step: Double
    /// Pixel positions of `lower` and `upper` (the y axis runs upwards, so
    /// its `start` is the larger coordinate).
    let start: Double
    let end: Double

    /// Round bounds around `low...high` with about `tickCount` intervals; a
    /// range of one value is widened around it, `integerSteps` keeps steps
    /// whole (epochs).
    init(covering low: Double, _ high: Double, tickCount: Int = 5, integerSteps: Bool = false, from start: Double, to end: Double) {
        var low = low, high = high
        if !(high > low) {
            let pad = max(abs(low) * 0.05, integerSteps ? 1 : 0.05)
            low -= pad
            high += pad
        }
        var step = Self.niceStep((high - low) / Double(max(tickCount, 1)))
        if integerSteps { step = max(step.rounded(.up), 1) }
        self.step = step
        lower = (low / step).rounded(.down) * step
        upper = (high / step).rounded(.up) * step
        self.start = start
        self.end = end
    }

    /// Fixed bounds (the ROC chart's 0…1).
    init(fixed lower: Double, _ upper: Double, step: Double, from start: Double, to end: Double) {
        self.lower = lower
        self.upper = upper
        self.step = step
        self.start = start
        self.end = end
    }

    func position(_ value: Double) -> Double {
        start + (value - lower) / (upper - lower) * (end - start)
    }

    /// Multiples of the step from `lower` to `upper`, each computed from
    /// its index so no rounding error accumulates.
    var ticks: [Double] {
        let intervals = ((upper - lower) / step).rounded()
        // Values near Double's limits overflow the range: just the ends then.
        guard intervals.isFinite, intervals >= 1, intervals <= 100 else { return [lower, upper].filter(\.isFinite) }
        return (0...Int(intervals)).map { lower + Double($0) * step }
    }

    /// A tick's label with just the decimals the step needs.
    func label(_ value: Double) -> String {
        let mantissa = step / pow(10, log10(step).rounded(.down))
        let decimals = max(0, Int((-log10(step)).rounded(.up)) + (abs(mantissa - 2.5) < 1e-9 ? 1 : 0))
        let text = TextLayout.fixed(value, digits: decimals)
        return text.hasPrefix("-") && Double(text) == 0 ? String(text.dropFirst()) : text
    }

    private static func niceStep(_ raw: Double) -> Double {
        guard raw > 0, raw.isFinite else { return 1 }
        let magnitude = pow(10, log10(raw).rounded(.down))
        let residual = raw / magnitude
        let factor: Double = residual <= 1 ? 1 : residual <= 2 ? 2 : residual <= 2.5 ? 2.5 : residual <= 5 ? 5 : 10
        return factor * magnitude
    }
}
