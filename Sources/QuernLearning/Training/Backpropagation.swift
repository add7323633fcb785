import QuernTensor

/// One mini-batch through a head and back: the forward pass that keeps what
/// the backward pass needs, the loss, and the gradients of every weight and
/// bias. Every buffer is allocated once, for the largest batch; a smaller
/// batch uses their first rows. Products are GEMMs on the tensor core with
/// transposes by flag, never by copy:
///
///     forward   Z = X·W1ᵀ + b1    H = act(Z) ∘ M    Y = H·W2ᵀ + b2
///     backward  dW2 = dYᵀ·H   db2 = Σ_rows dY   dH = dY·W2
///               dZ = dH ∘ M ∘ act′(Z)   dW1 = dZᵀ·X   db1 = Σ_rows dZ
///
/// for an MLP with dropout mask M on its hidden units; a linear head is
/// Y = (X ∘ M)·Wᵀ + b, dW = dYᵀ·(X ∘ M), db = Σ_rows dY.
struct Backpropagation {
    let architecture: HeadArchitecture
    let capacity: Int
    let dropout: Float
    /// The batch's feature rows [capacity, D]; for a linear head with
    /// dropout, after dropout.
    let input: Tensor
    /// The dropout factors (0 or 1/(1 − p)) of a linear head's inputs.
    let inputMask: Tensor?
    /// An MLP's hidden layer before the activation (Z), after it and
    /// dropout (H), the dropout factors, and dL/dH then dL/dZ in place.
    let preActivation: Tensor?
    let hidden: Tensor?
    let hiddenMask: Tensor?
    let hiddenGradient: Tensor?
    /// Y, and dL/dY.
    let outputs: Tensor
    let outputGradient: Tensor
    /// What `backward` computes.
    let gradients: HeadGradients

    init(architecture: HeadArchitecture, capacity: Int, dropout: Float) {
        precondition(capacity > 0 && dropout >= 0 && dropout < 1, "backpropagation: capacity \(capacity), dropout \(dropout)")
        self.architecture = architecture
        self.capacity = capacity
        self.dropout = dropout
        input = Tensor(zeros: [capacity, architecture.inputWidth])
        outputs = Tensor(zeros: [capacity, architecture.outputWidth])
        outputGradient = Tensor(zeros: [capacity, architecture.outputWidth])
        gradients = HeadGradients(zerosFor: architecture)
        if let hiddenWidth = architecture.hiddenWidth {
            preActivation = Tensor(zeros: [capacity, hiddenWidth])
            hidden = Tensor(zeros: [capacity, hiddenWidth])
            hiddenGradient = Tensor(zeros: [capacity, hiddenWidth])
            hiddenMask = dropout > 0 ? Tensor(zeros: [capacity, hiddenWidth]) : nil
            inputMask = nil
        } else {
            preActivation = nil
            hidden = nil
            hiddenGradient = nil
            hiddenMask = nil
            inputMask = dropout > 0 ? Tensor(zeros: [capacity, architecture.inputWidth]) : nil
        }
    }

    /// What one batch measured.
    struct BatchResult {
        /// The batch's mean loss (PyTorch's reduction).
        var loss: Double
        /// The outputs [batch, outputWidth], row-major, as trained (with dropout).
        var outputs: [Float]
    }

    /// Forward, loss and backward for the rows `indices` of `features`,
    /// whose targets are `targets` (in the same order). Leaves the
    /// gradients in `gradients`; dropout masks come from `generator`.
    func run(features: Tensor, indices: [Int], targets: TrainingTargets, parameters: HeadParameters, loss: LossFunction,
             generator: inout SeededGenerator) -> BatchResult {
        let batch = indices.count
        precondition(batch > 0 && batch <= capacity && targets.count == batch, "batch of \(batch) (capacity \(capacity))")
        gatherRows(features, indices: indices, into: input)
        let outputs = forward(batch: batch, parameters: parameters, generator: &generator).scalars
        let evaluated = loss.valueAndGradient(outputs: outputs, width: architecture.outputWidth, targets: targets)
        let gradient = outputGradient.rows(0..<batch)
        for (index, value) in evaluated.gradient.enumerated() { gradient[flat: index] = value }
        backward(batch: batch, parameters: parameters)
        return BatchResult(loss: evaluated.value, outputs: outputs)
    }

    /// The training-mode forward pass over the first `batch` rows of
    /// `input`: returns Y [batch, outputWidth], a view of `outputs`.
    func forward(batch: Int, parameters: HeadParameters, generator: inout SeededGenerator) -> Tensor {
        let x = input.rows(0..<batch)
        let y = outputs.rows(0..<batch)
        guard let preActivation, let hidden else {
            if let inputMask { dropoutInPlace(x, probability: dropout, mask: inputMask.rows(0..<batch), generator: &generator) }
            affine(x, parameters.layers[0], into: y)
            return y
        }
        let z = preActivation.rows(0..<batch), h = hidden.rows(0..<batch)
        affine(x, parameters.layers[0], into: z)
        switch architecture.activation {
        case .relu: reluInPlace(z, into: h)
        case .gelu: geluErf(z, into: h)
        }
        if let hiddenMask { dropoutInPlace(h, probability: dropout, mask: hiddenMask.rows(0..<batch), generator: &generator) }
        affine(h, parameters.layers[1], into: y)
        return y
    }

    /// The backward pass from dL/dY in the first `batch` rows of
    /// `outputGradient`, through the activations `forward` kept.
    func backward(batch: Int, parameters: HeadParameters) {
        let x = input.rows(0..<batch)
        let dy = outputGradient.rows(0..<batch)
        let last = parameters.layers.count - 1
        let lastInput = hidden?.rows(0..<batch) ?? x
        GEMM.run(MatrixView(dy), transposeA: true, MatrixView(lastInput), into: MatrixView(gradients.weights[last]))
        columnSums(dy, into: gradients.biases[last])
        guard let preActivation, let hiddenGradient else { return }
        let dh = hiddenGradient.rows(0..<batch)
        GEMM.run(MatrixView(dy), MatrixView(parameters.layers[1].weight), into: MatrixView(dh))
        if let hiddenMask { dh.multiplyInPlace(hiddenMask.rows(0..<batch)) }
        let z = preActivation.rows(0..<batch)
        switch architecture.activation {
        case .relu: reluBackward(preActivation: z, gradient: dh)
        case .gelu: geluErfBackward(preActivation: z, gradient: dh)
        }
        GEMM.run(MatrixView(dh), transposeA: true, MatrixView(x), into: MatrixView(gradients.weights[0]))
        columnSums(dh, into: gradients.biases[0])
    }

    /// y = x·Wᵀ + b, as nn.Linear computes it.
    private func affine(_ x: Tensor, _ layer: DenseLayer, into y: Tensor) {
        GEMM.run(MatrixView(x), MatrixView(layer.weight), transposeB: true, into: MatrixView(y))
        y.addInPlace(layer.bias)
    }
}
