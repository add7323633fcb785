@testable import QuernLearning
import QuernTensor

#if canImport(Glibc)
import Glibc
#endif

/// A head's forward pass in Double, written as plainly as possible: the
/// finite differences of the gradient checks take their losses from it, so
/// they are not limited by float32 rounding.
struct ReferenceForward {
    let architecture: HeadArchitecture
    /// Each layer's weight [out·in] and bias [out], row-major.
    var weights: [[Double]]
    var biases: [[Double]]

    init(architecture: HeadArchitecture, parameters: HeadParameters) {
        self.architecture = architecture
        weights = parameters.layers.map { $0.weight.scalars.map(Double.init) }
        biases = parameters.layers.map { $0.bias.scalars.map(Double.init) }
    }

    /// The outputs [rows, outputWidth] for `features` [rows, inputWidth],
    /// with dropout factors fixed: `inputMask` on a linear head's inputs,
    /// `hiddenMask` on an MLP's hidden units (nil: no dropout).
    func outputs(features: [Double], rows: Int, inputMask: [Double]?, hiddenMask: [Double]?) -> [Double] {
        var activations = features
        if let inputMask { activations = zip(activations, inputMask).map { $0 * $1 } }
        for (index, shape) in architecture.layerShapes.enumerated() {
            var next = [Double](repeating: 0, count: rows * shape.output)
            for row in 0..<rows {
                for unit in 0..<shape.output {
                    var total = biases[index][unit]
                    for input in 0..<shape.input { total += activations[row * shape.input + input] * weights[index][unit * shape.input + input] }
                    next[row * shape.output + unit] = total
                }
            }
            if index < architecture.layerShapes.count - 1 {
                next = next.map { value in
                    switch architecture.activation {
                    case .relu: return max(value, 0)
                    case .gelu: return 0.5 * value * (1 + erf(value / 2.0.squareRoot()))
                    }
                }
                if let hiddenMask { next = zip(next, hiddenMask).map { $0 * $1 } }
            }
            activations = next
        }
        return activations
    }
}
