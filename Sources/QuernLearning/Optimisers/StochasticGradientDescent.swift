import QuernTensor

/// torch.optim.SGD with dampening 0: g ← ∇ + λ·w (weights only), with
/// momentum μ a buffer b ← g on the first step and μ·b + g after it, the
/// step being b (or g + μ·b with Nesterov); w ← w − lr·step.
public struct StochasticGradientDescent: Optimiser {
    public let momentum: Double
    public let nesterov: Bool
    public let weightDecay: Double
    /// One momentum buffer per trainable tensor, made on the first step.
    private var buffers: [Tensor] = []

    public init(momentum: Double = 0, nesterov: Bool = false, weightDecay: Double = 0) {
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
    }

    public mutating func step(_ parameters: HeadParameters, gradients: HeadGradients, learningRate: Double) {
        let tensors = parameters.trainableTensors(with: gradients)
        let firstStep = buffers.isEmpty
        if momentum > 0 && firstStep { buffers = tensors.map { Tensor(zeros: $0.value.shape) } }
        for (index, tensor) in tensors.enumerated() {
            let decay = Float(tensor.isWeight ? weightDecay : 0)
            if momentum > 0 {
                ParameterUpdate.momentum(
                    tensor.value, gradient: tensor.gradient, buffer: buffers[index], momentum: Float(momentum),
                    nesterov: nesterov, firstStep: firstStep, learningRate: Float(learningRate), weightDecay: decay)
            } else {
                ParameterUpdate.sgd(tensor.value, gradient: tensor.gradient, learningRate: Float(learningRate), weightDecay: decay)
            }
        }
    }
}
