/// What a head predicts: one of several classes (softmax over logits,
/// trained with cross-entropy) or a number (one output, trained with MSE).
public enum HeadTask: String, Sendable, CaseIterable {
    case classification, regression
}

/// The non-linearity of an MLP head's hidden layer. `gelu` is the erf form
/// (PyTorch's `nn.GELU()` default).
public enum HeadActivation: String, Sendable, CaseIterable {
    case relu, gelu
}

/// The shape of a head: `inputWidth` standardised features → (optional
/// hidden layer of `hiddenWidth` units with `activation`) → `outputWidth`
/// logits (the class count) or one value (regression).
///
/// Without a hidden layer the head is multinomial logistic regression
/// (a linear regression for a numeric target).
public struct HeadArchitecture: Sendable, Equatable {
    public var task: HeadTask
    public var inputWidth: Int
    /// nil: a linear head; otherwise the MLP's hidden width.
    public var hiddenWidth: Int?
    public var activation: HeadActivation
    public var outputWidth: Int

    public init(task: HeadTask, inputWidth: Int, hiddenWidth: Int? = nil, activation: HeadActivation = .relu, outputWidth: Int) throws(LearningError) {
        guard inputWidth > 0 else { throw LearningError(.invalidParameter, "a head needs at least one input feature, got \(inputWidth)") }
        if let hiddenWidth, hiddenWidth <= 0 {
            throw LearningError(.invalidParameter, "the hidden layer needs at least one unit, got \(hiddenWidth)")
        }
        switch task {
        case .classification:
            guard outputWidth >= 2 else { throw LearningError(.invalidParameter, "a classification head needs at least 2 classes, got \(outputWidth)") }
        case .regression:
            guard outputWidth == 1 else { throw LearningError(.invalidParameter, "a regression head has exactly one output, got \(outputWidth)") }
        }
        self.task = task
        self.inputWidth = inputWidth
        self.hiddenWidth = hiddenWidth
        self.activation = activation
        self.outputWidth = outputWidth
    }

    /// The widths of the dense layers' inputs and outputs, first layer first.
    public var layerShapes: [(input: Int, output: Int)] {
        if let hiddenWidth { return [(inputWidth, hiddenWidth), (hiddenWidth, outputWidth)] }
        return [(inputWidth, outputWidth)]
    }

    /// "logistic" / "linear" or "mlp", as head.json names it.
    public var kindName: String {
        if hiddenWidth != nil { return "mlp" }
        return task == .classification ? "logistic" : "linear"
    }
}
