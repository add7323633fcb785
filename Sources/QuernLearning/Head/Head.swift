import QuernTensor

/// A trained head: standardisation, then the dense layers, then softmax
/// (classification) or the value itself (regression). Runs on the tensor
/// core: one GEMM per layer for a whole batch of feature vectors.
public struct Head: Sendable {
    public var architecture: HeadArchitecture
    /// Class names in output order (classification); empty for regression.
    public var classes: [String]
    public var standardisation: Standardisation
    public var parameters: HeadParameters

    public init(architecture: HeadArchitecture, classes: [String], standardisation: Standardisation, parameters: HeadParameters) throws(LearningError) {
        switch architecture.task {
        case .classification:
            guard classes.count == architecture.outputWidth else {
                throw LearningError(.invalidHead, "the head has \(architecture.outputWidth) outputs but \(classes.count) class names")
            }
            guard Set(classes).count == classes.count else {
                throw LearningError(.invalidHead, "class names must be distinct")
            }
        case .regression:
            guard classes.isEmpty else { throw LearningError(.invalidHead, "a regression head has no classes") }
        }
        guard standardisation.width == architecture.inputWidth else {
            throw LearningError(.invalidHead, "the standardisation has \(standardisation.width) features, the head takes \(architecture.inputWidth)")
        }
        try parameters.validate(against: architecture)
        self.architecture = architecture
        self.classes = classes
        self.standardisation = standardisation
        self.parameters = parameters
    }

    /// The raw outputs [N, outputWidth] for already standardised features
    /// [N, inputWidth]: logits, or the regression value. Training calls this
    /// too (without dropout it is the same forward pass).
    public func outputs(standardised features: Tensor) -> Tensor {
        Head.forward(features, parameters: parameters, activation: architecture.activation)
    }

    /// The dense layers over `input` [N, in], with `activation` between them.
    public static func forward(_ input: Tensor, parameters: HeadParameters, activation: HeadActivation) -> Tensor {
        var x = input
        for (index, layer) in parameters.layers.enumerated() {
            x = linear(x, weight: layer.weight, bias: layer.bias)
            if index < parameters.layers.count - 1 {
                switch activation {
                case .relu: reluInPlace(x)
                case .gelu: x = geluErf(x)
                }
            }
        }
        return x
    }

    /// Class probabilities [N, classes] (classification) or values [N, 1]
    /// (regression) for raw feature vectors [N, inputWidth].
    public func predict(_ features: Tensor) throws(LearningError) -> Tensor {
        let outputs = outputs(standardised: try standardisation.apply(features))
        return architecture.task == .classification ? softmax(outputs) : outputs
    }

    /// One prediction per feature vector: the class probabilities by name
    /// and the most probable class, or the regression value.
    public func predictions(_ features: [[Float]]) throws(LearningError) -> [HeadPrediction] {
        guard !features.isEmpty else { return [] }
        let width = architecture.inputWidth
        for vector in features where vector.count != width {
            throw LearningError(.shapeMismatch, "a feature vector has \(vector.count) values, the head takes \(width)")
        }
        let rows = features.count
        let values = try predict(Tensor(vector: features.flatMap { $0 }).reshaped([rows, width])).scalars
        let outputs = architecture.outputWidth
        return (0..<rows).map { row in
            let slice = Array(values[(row * outputs)..<((row + 1) * outputs)])
            switch architecture.task {
            case .regression:
                return .value(Double(slice[0]))
            case .classification:
                // The first of equal maxima, as argmax does.
                var best = 0
                for index in slice.indices where slice[index] > slice[best] { best = index }
                return .label(classes[best], scores: zip(classes, slice).map { ($0, Double($1)) })
            }
        }
    }
}

/// What a head says about one input.
public enum HeadPrediction: Sendable, Equatable {
    /// The most probable class and every class's probability, in class order.
    case label(String, scores: [(String, Double)])
    case value(Double)

    public static func == (lhs: HeadPrediction, rhs: HeadPrediction) -> Bool {
        switch (lhs, rhs) {
        case let (.value(a), .value(b)): return a == b
        case let (.label(a, scores: x), .label(b, scores: y)):
            return a == b && x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }
}
