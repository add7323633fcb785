import QuernTensor

/// Feature standardisation learnt on the training split and stored in the
/// head: x' = (x − mean) / std, per feature, as scikit-learn's
/// `StandardScaler` computes it (population standard deviation; a feature
/// that never varies keeps a std of 1 so it is only centred).
public struct Standardisation: Sendable, Equatable {
    public var mean: [Float]
    public var std: [Float]

    public init(mean: [Float], std: [Float]) throws(LearningError) {
        guard mean.count == std.count, !mean.isEmpty else {
            throw LearningError(.shapeMismatch, "standardisation needs one mean and one std per feature, got \(mean.count) and \(std.count)")
        }
        guard std.allSatisfy({ $0 > 0 && $0.isFinite }), mean.allSatisfy(\.isFinite) else {
            throw LearningError(.invalidHead, "standardisation values must be finite, with every std > 0")
        }
        self.mean = mean
        self.std = std
    }

    /// Learns mean and std from the rows of `features` [N, D] (N ≥ 1),
    /// accumulating in Double.
    public init(fitting features: Tensor) throws(LearningError) {
        guard features.rank == 2, features.shape[0] > 0, features.shape[1] > 0 else {
            throw LearningError(.shapeMismatch, "standardisation is fitted on [examples, features], got \(features.shape)")
        }
        let rows = features.shape[0], width = features.shape[1]
        let values = features.scalars
        var sum = [Double](repeating: 0, count: width)
        for row in 0..<rows {
            for column in 0..<width { sum[column] += Double(values[row * width + column]) }
        }
        let means = sum.map { $0 / Double(rows) }
        var squares = [Double](repeating: 0, count: width)
        for row in 0..<rows {
            for column in 0..<width {
                let centred = Double(values[row * width + column]) - means[column]
                squares[column] += centred * centred
            }
        }
        mean = means.map(Float.init)
        // scikit-learn's rule for float32 input: a feature whose std is
        // below 10 float32 epsilons is constant and left unscaled.
        std = squares.map { square in
            let deviation = (square / Double(rows)).squareRoot()
            return deviation < 10 * Double(Float.ulpOfOne) ? 1 : Float(deviation)
        }
    }

    public var width: Int { mean.count }

    /// (x − mean) / std for every row of `features` [N, D], as a new tensor.
    public func apply(_ features: Tensor) throws(LearningError) -> Tensor {
        guard features.rank == 2, features.shape[1] == width else {
            throw LearningError(.shapeMismatch, "features are \(features.shape), the head takes \(width) per example")
        }
        let width = self.width
        let inverse = std.map { 1 / $0 }
        var values = features.scalars
        for index in values.indices {
            let column = index % width
            values[index] = (values[index] - mean[column]) * inverse[column]
        }
        return Tensor(vector: values).reshaped(features.shape)
    }
}
