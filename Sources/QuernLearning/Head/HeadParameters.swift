import QuernTensor

/// One fully connected layer, stored as `nn.Linear` stores it: `weight`
/// [output, input] and `bias` [output].
public struct DenseLayer: Sendable {
    public var weight: Tensor
    public var bias: Tensor

    public init(weight: Tensor, bias: Tensor) throws(LearningError) {
        guard weight.rank == 2, bias.rank == 1, bias.count == weight.shape[0] else {
            throw LearningError(.shapeMismatch, "a dense layer needs weight [out, in] and bias [out], got \(weight.shape) and \(bias.shape)")
        }
        self.weight = weight
        self.bias = bias
    }

    public var inputWidth: Int { weight.shape[1] }
    public var outputWidth: Int { weight.shape[0] }

    /// An independent copy (training updates layers in place; the best
    /// epoch's weights are kept as a copy).
    public func copy() -> DenseLayer {
        // Shapes were checked when `self` was made.
        DenseLayer(checkedWeight: weight.copy(), bias: bias.copy())
    }

    init(checkedWeight weight: Tensor, bias: Tensor) {
        self.weight = weight
        self.bias = bias
    }
}

/// The trainable values of a head: its dense layers, first layer first.
public struct HeadParameters: Sendable {
    public var layers: [DenseLayer]

    public init(layers: [DenseLayer]) { self.layers = layers }

    /// PyTorch's default `nn.Linear` initialisation (Kaiming-uniform with
    /// a = √5, which for both weight and bias comes to U(−1/√in, 1/√in)),
    /// drawn from a seeded generator so a seed gives the same head.
    public init(initialisedFor architecture: HeadArchitecture, seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        layers = architecture.layerShapes.map { shape in
            let bound = 1 / Float(shape.input).squareRoot()
            let weights = (0..<shape.output * shape.input).map { _ in Float.random(in: -bound..<bound, using: &generator) }
            let biases = (0..<shape.output).map { _ in Float.random(in: -bound..<bound, using: &generator) }
            return DenseLayer(checkedWeight: Tensor(vector: weights).reshaped([shape.output, shape.input]), bias: Tensor(vector: biases))
        }
    }

    public func copy() -> HeadParameters { HeadParameters(layers: layers.map { $0.copy() }) }

    /// Checks the layers fit `architecture` (a head file's tensors against its head.json).
    public func validate(against architecture: HeadArchitecture) throws(LearningError) {
        let expected = architecture.layerShapes
        guard layers.count == expected.count else {
            throw LearningError(.invalidHead, "the architecture has \(expected.count) layer(s), the weights \(layers.count)")
        }
        for (index, (layer, shape)) in zip(layers, expected).enumerated()
        where layer.inputWidth != shape.input || layer.outputWidth != shape.output {
            throw LearningError(.invalidHead, "layer \(index) is \(layer.outputWidth)×\(layer.inputWidth), the architecture says \(shape.output)×\(shape.input)")
        }
    }
}
