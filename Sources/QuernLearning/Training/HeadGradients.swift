import QuernTensor

/// The gradient of the loss with respect to every trainable tensor of a
/// head: one weight [out, in] and one bias [out] per dense layer, shaped
/// like `HeadParameters`' layers.
public struct HeadGradients: Sendable {
    public var weights: [Tensor]
    public var biases: [Tensor]

    /// Zeros, shaped for `architecture`.
    init(zerosFor architecture: HeadArchitecture) {
        weights = architecture.layerShapes.map { Tensor(zeros: [$0.output, $0.input]) }
        biases = architecture.layerShapes.map { Tensor(zeros: [$0.output]) }
    }
}

/// One trainable tensor with its gradient, as an optimiser visits them:
/// each layer's weight, then its bias, first layer first (the order of
/// PyTorch's `model.parameters()`).
struct TrainableTensor {
    var value: Tensor
    var gradient: Tensor
    /// Weight decay applies to weights, never to biases.
    var isWeight: Bool
}

extension HeadParameters {
    func trainableTensors(with gradients: HeadGradients) -> [TrainableTensor] {
        precondition(gradients.weights.count == layers.count && gradients.biases.count == layers.count,
                     "gradients for \(gradients.weights.count) layers, parameters of \(layers.count)")
        return layers.indices.flatMap { index in
            [TrainableTensor(value: layers[index].weight, gradient: gradients.weights[index], isWeight: true),
             TrainableTensor(value: layers[index].bias, gradient: gradients.biases[index], isWeight: false)]
        }
    }
}
