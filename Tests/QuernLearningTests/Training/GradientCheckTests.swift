@testable import QuernLearning
import QuernTensor
import Testing

/// The hand-derived backward pass against central finite differences, for
/// every loss × head × regulariser.
///
/// The analytic side is the trainer's own float32 path (GEMMs, activation
/// derivatives, the loss gradient). The numerical side differentiates the
/// same objective evaluated entirely in Double — `ReferenceForward` for the
/// head, `LossFunction.value` (which accumulates in Double) for the loss —
/// at the same float32 parameters. In Double a step of h = 1e-5 leaves a
/// truncation error ~h²·|f‴| ≈ 1e-10 and a rounding error ~1e-16/h ≈ 1e-11,
/// far below the float32 gradient's own error (~1e-7 of its scale: measured
/// at most 2e-7), so the tolerance can be tight: max|analytic − numerical|
/// ≤ 1e-5 × max|numerical| over all parameters. A wrong term (a missing
/// factor, a transposed product, a derivative at the wrong point) errs by
/// O(1) of that scale.
/// h is small enough that no ReLU pre-activation of these fixtures lies
/// within h of its kink.
@Suite struct GradientCheckTests {
    enum Loss: String, CaseIterable { case crossEntropy, weightedCrossEntropy, smoothedCrossEntropy, meanSquaredError }
    enum HeadKind: String, CaseIterable { case linear, mlpReLU, mlpGELU }
    enum Regulariser: String, CaseIterable { case none, l2, dropout }

    static let rows = 7, inputWidth = 5, hiddenWidth = 4, classes = 3
    static let weightDecay = 0.1, dropout: Float = 0.3
    static let step = 1e-5, tolerance = 1e-5

    @Test(arguments: Loss.allCases, HeadKind.allCases)
    func gradientsMatchFiniteDifferences(loss: Loss, head: HeadKind) throws {
        for regulariser in Regulariser.allCases {
            try check(loss: loss, head: head, regulariser: regulariser)
        }
    }

    private func check(loss lossKind: Loss, head: HeadKind, regulariser: Regulariser) throws {
        let regression = lossKind == .meanSquaredError
        let architecture = try HeadArchitecture(
            task: regression ? .regression : .classification, inputWidth: Self.inputWidth,
            hiddenWidth: head == .linear ? nil : Self.hiddenWidth, activation: head == .mlpGELU ? .gelu : .relu,
            outputWidth: regression ? 1 : Self.classes)
        let loss: LossFunction = switch lossKind {
        case .crossEntropy: .crossEntropy
        case .weightedCrossEntropy: .crossEntropy(classWeights: [0.5, 2, 1.25], labelSmoothing: 0)
        case .smoothedCrossEntropy: .crossEntropy(classWeights: nil, labelSmoothing: 0.2)
        case .meanSquaredError: .meanSquaredError
        }
        // Larger weights than the default initialisation, so the hidden
        // units spread over both sides of ReLU's kink.
        let parameters = HeadParameters(initialisedFor: architecture, seed: 11)
        for layer in parameters.layers { layer.weight.scaleInPlace(by: 2.5) }
        let features = Tensor.random([Self.rows, Self.inputWidth], seed: 12, range: -2...2)
        var generator = SeededGenerator(seed: 13)
        let targets: TrainingTargets = regression
            ? .values((0..<Self.rows).map { _ in Float.random(in: -2...2, using: &generator) })
            : .classes([0, 2, 1, 1, 0, 2, 2])

        // Analytic: one batch through the trainer's backward pass.
        let backpropagation = Backpropagation(architecture: architecture, capacity: Self.rows,
                                              dropout: regulariser == .dropout ? Self.dropout : 0)
        var dropoutGenerator = SeededGenerator(seed: 14)
        let batch = backpropagation.run(features: features, indices: Array(0..<Self.rows), targets: targets,
                                        parameters: parameters, loss: loss, generator: &dropoutGenerator)
        var analytic = backpropagation.gradients.weights.map { $0.scalars.map(Double.init) } as [[Double]]
        var analyticBiases = backpropagation.gradients.biases.map { $0.scalars.map(Double.init) } as [[Double]]
        var decay = 0.0
        if regulariser == .l2 {
            // The coupled L2 term as the optimisers apply it: one SGD step at
            // rate 1 moves each tensor by −(∇ + λ·w) for weights, −∇ for biases.
            decay = Self.weightDecay
            let stepped = parameters.copy()
            var sgd = StochasticGradientDescent(weightDecay: decay)
            sgd.step(stepped, gradients: backpropagation.gradients, learningRate: 1)
            analytic = zip(parameters.layers, stepped.layers).map { zip($0.weight.scalars, $1.weight.scalars).map { Double($0) - Double($1) } }
            analyticBiases = zip(parameters.layers, stepped.layers).map { zip($0.bias.scalars, $1.bias.scalars).map { Double($0) - Double($1) } }
        }

        // Numerical: the same objective in Double, dropout masks held fixed.
        let inputMask = backpropagation.inputMask.map { $0.scalars.map(Double.init) }
        let hiddenMask = backpropagation.hiddenMask.map { $0.scalars.map(Double.init) }
        let x = features.scalars.map(Double.init)
        func objective(_ reference: ReferenceForward) -> Double {
            let outputs = reference.outputs(features: x, rows: Self.rows, inputMask: inputMask, hiddenMask: hiddenMask)
            let penalty = reference.weights.joined().reduce(0) { $0 + $1 * $1 } * decay / 2
            return loss.value(outputs: outputs, width: architecture.outputWidth, targets: targets) + penalty
        }
        let base = ReferenceForward(architecture: architecture, parameters: parameters)
        let label = "\(lossKind) \(head) \(regulariser)"
        // The float32 forward pass's loss agrees with the Double one.
        let penalty = base.weights.joined().reduce(0) { $0 + $1 * $1 } * decay / 2
        let referenceLoss = objective(base) - penalty
        #expect(abs(referenceLoss - batch.loss) <= 1e-5 * abs(referenceLoss), "\(label): loss \(batch.loss), in Double \(referenceLoss)")

        var numerical: [[Double]] = [], numericalBiases: [[Double]] = []
        for layer in base.weights.indices {
            numerical.append(base.weights[layer].indices.map { index in
                var plus = base, minus = base
                plus.weights[layer][index] += Self.step
                minus.weights[layer][index] -= Self.step
                return (objective(plus) - objective(minus)) / (2 * Self.step)
            })
            numericalBiases.append(base.biases[layer].indices.map { index in
                var plus = base, minus = base
                plus.biases[layer][index] += Self.step
                minus.biases[layer][index] -= Self.step
                return (objective(plus) - objective(minus)) / (2 * Self.step)
            })
        }
        let expected = Array((numerical + numericalBiases).joined()), actual = Array((analytic + analyticBiases).joined())
        let scale = expected.map(abs).max() ?? 0
        let worst = zip(actual, expected).map { abs($0 - $1) }.max() ?? .infinity
        #expect(scale > 1e-3, "\(label): the gradient is too small to check (\(scale))")
        #expect(worst <= Self.tolerance * scale, "\(label): max error \(worst) against a gradient scale of \(scale)")
    }
}
