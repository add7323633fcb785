/// Sums and means added in the order NumPy adds them (`np.sum`, `np.mean`,
/// `np.average` on a contiguous float64 vector), so that a metric equals
/// scikit-learn's to the last bit instead of to a rounding error: blocks of
/// up to 128 values go through eight running sums, longer vectors are split
/// in halves (at a multiple of 8) and summed recursively.
enum NumPySum {
    static func sum(_ values: [Double]) -> Double {
        pairwise(values[...])
    }

    /// NaN for an empty vector, as NumPy's (with a warning).
    static func mean(_ values: [Double]) -> Double {
        values.isEmpty ? .nan : sum(values) / Double(values.count)
    }

    /// `np.average(values, weights:)`: Σ values·weights / Σ weights.
    static func weightedMean(_ values: [Double], weights: [Double]) -> Double {
        precondition(values.count == weights.count, "one weight per value")
        return sum(zip(values, weights).map { $0 * $1 }) / sum(weights)
    }

    /// `np.std(values)` with ddof = 0: the square root of the mean squared
    /// deviation from the mean.
    static func populationStandardDeviation(_ values: [Double]) -> Double {
        let mean = mean(values)
        return self.mean(values.map { ($0 - mean) * ($0 - mean) }).squareRoot()
    }

    private static func pairwise(_ values: ArraySlice<Double>) -> Double {
        let count = values.count
        let start = values.startIndex
        if count < 8 {
            var total = 0.0
            for value in values { total += value }
            return total
        }
        if count <= 128 {
            var partial = Array(values[start..<(start + 8)])
            var index = 8
            while index < count - count % 8 {
                for lane in 0..<8 { partial[lane] += values[start + index + lane] }
                index += 8
            }
            var total = ((partial[0] + partial[1]) + (partial[2] + partial[3])) + ((partial[4] + partial[5]) + (partial[6] + partial[7]))
            while index < count {
                total += values[start + index]
                index += 1
            }
            return total
        }
        var half = count / 2
        half -= half % 8
        return pairwise(values[start..<(start + half)]) + pairwise(values[(start + half)...])
    }
}
