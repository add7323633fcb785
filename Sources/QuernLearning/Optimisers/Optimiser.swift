import QuernJSON

/// An update rule: torch.optim's, step for step. The optimiser keeps its
/// own state (momentum buffers, moment estimates) between steps.
public protocol Optimiser {
    /// Updates the values of `parameters`' tensors in place (their storage
    /// is shared with the caller's) by one step from `gradients`.
    mutating func step(_ parameters: HeadParameters, gradients: HeadGradients, learningRate: Double)
}

/// Which update rule training uses, as `--optimiser` and head.json name it.
public enum OptimiserKind: String, Sendable, CaseIterable {
    /// SGD, with momentum and Nesterov when `momentum` > 0.
    case sgd
    /// Adam with coupled L2 weight decay (g ← g + λ·w).
    case adam
    /// AdamW: weight decay decoupled from the gradient (w ← w·(1 − lr·λ)).
    case adamw
}

/// The hyper-parameters of an update rule, with torch.optim's defaults.
public struct OptimiserSettings: Sendable, Equatable {
    public var kind: OptimiserKind
    /// SGD's momentum μ (0: plain SGD). Dampening is always 0.
    public var momentum: Double
    /// Nesterov momentum (SGD with μ > 0 only).
    public var nesterov: Bool
    public var beta1: Double
    public var beta2: Double
    public var epsilon: Double
    /// λ, applied to weights only (biases are never decayed).
    public var weightDecay: Double

    public init(kind: OptimiserKind = .adamw, momentum: Double = 0, nesterov: Bool = false, beta1: Double = 0.9,
                beta2: Double = 0.999, epsilon: Double = 1e-8, weightDecay: Double = 0) {
        self.kind = kind
        self.momentum = momentum
        self.nesterov = nesterov
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }

    /// Refuses values torch.optim refuses, naming the option.
    public func validate() throws(LearningError) {
        guard momentum >= 0, momentum < 1 else { throw LearningError(.invalidParameter, "momentum must be in [0, 1), got \(momentum)") }
        if nesterov {
            guard kind == .sgd, momentum > 0 else {
                throw LearningError(.invalidParameter, "nesterov needs the sgd optimiser with a momentum above 0")
            }
        }
        guard beta1 >= 0, beta1 < 1 else { throw LearningError(.invalidParameter, "beta1 must be in [0, 1), got \(beta1)") }
        guard beta2 >= 0, beta2 < 1 else { throw LearningError(.invalidParameter, "beta2 must be in [0, 1), got \(beta2)") }
        guard epsilon > 0, epsilon.isFinite else { throw LearningError(.invalidParameter, "epsilon must be positive, got \(epsilon)") }
        guard weightDecay >= 0, weightDecay.isFinite else {
            throw LearningError(.invalidParameter, "weight_decay must be 0 or more, got \(weightDecay)")
        }
    }

    /// A fresh optimiser (no state yet) with these settings.
    public func makeOptimiser() -> any Optimiser {
        switch kind {
        case .sgd:
            return StochasticGradientDescent(momentum: momentum, nesterov: nesterov, weightDecay: weightDecay)
        case .adam, .adamw:
            return Adam(beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay, decoupledWeightDecay: kind == .adamw)
        }
    }
}
