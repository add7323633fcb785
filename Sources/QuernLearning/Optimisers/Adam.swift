#if canImport(Glibc)
import Glibc
#endif
import QuernTensor

/// torch.optim.Adam, and AdamW when the weight decay is decoupled. At step
/// t (from 1), for each weight w with gradient g:
///
///     AdamW: w ← w·(1 − lr·λ)          Adam: g ← g + λ·w
///     m ← β1·m + (1 − β1)·g            v ← β2·v + (1 − β2)·g²
///     w ← w − lr/(1 − β1^t) · m / (√v / √(1 − β2^t) + ε)
///
/// ε is added after the bias correction of √v, where PyTorch adds it.
/// Biases get no weight decay (a parameter group with λ = 0 in PyTorch).
public struct Adam: Optimiser {
    public let beta1: Double
    public let beta2: Double
    public let epsilon: Double
    public let weightDecay: Double
    /// AdamW's decoupled decay instead of Adam's coupled L2 term.
    public let decoupledWeightDecay: Bool
    private var firstMoments: [Tensor] = []
    private var secondMoments: [Tensor] = []
    private var stepCount = 0

    public init(beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8, weightDecay: Double = 0,
                decoupledWeightDecay: Bool = false) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
    }

    public mutating func step(_ parameters: HeadParameters, gradients: HeadGradients, learningRate: Double) {
        let tensors = parameters.trainableTensors(with: gradients)
        if firstMoments.isEmpty {
            firstMoments = tensors.map { Tensor(zeros: $0.value.shape) }
            secondMoments = tensors.map { Tensor(zeros: $0.value.shape) }
        }
        stepCount += 1
        // The scalars PyTorch computes in Python (double), then casts.
        let step = Double(stepCount)
        let stepSize = learningRate / (1 - pow(beta1, step))
        let biasCorrection2Root = (1 - pow(beta2, step)).squareRoot()
        for (index, tensor) in tensors.enumerated() {
            let decay = tensor.isWeight ? weightDecay : 0
            let coefficients = ParameterUpdate.AdamStep(
                firstMomentWeight: Float(1 - beta1), beta2: Float(beta2), secondMomentWeight: Float(1 - beta2),
                epsilon: Float(epsilon), stepSize: Float(stepSize),
                biasCorrection2Root: Float(biasCorrection2Root),
                coupledWeightDecay: decoupledWeightDecay ? 0 : Float(decay),
                decoupledDecayFactor: decoupledWeightDecay ? Float(1 - learningRate * decay) : 1)
            ParameterUpdate.adam(tensor.value, gradient: tensor.gradient, firstMoment: firstMoments[index],
                                 secondMoment: secondMoments[index], step: coefficients)
        }
    }
}
