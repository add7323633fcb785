/// Optimiser updates of one parameter tensor in place, in the order of
/// operations torch.optim uses (its single-tensor path, the CPU default),
/// so that float32 results track PyTorch's to rounding. Constants arrive as
/// Float, as PyTorch casts its Python scalars to the tensor's type.
///
/// Every element is updated independently, so the work is split over the
/// compute threads without changing any result.
public enum ParameterUpdate {
    private static let grain = 1 << 14

    /// Plain SGD: g ← g + λ·p (coupled weight decay, when λ ≠ 0), then
    /// p ← p − lr·g.
    public static func sgd(_ parameter: Tensor, gradient: Tensor, learningRate: Float, weightDecay: Float) {
        checkShapes(parameter, gradient)
        parameter.withMutablePointer { p in
            gradient.withPointer { g in
                parallelFor(parameter.count, grain: grain) { range in
                    for i in range {
                        let step = weightDecay == 0 ? g[i] : g[i] + weightDecay * p[i]
                        p[i] += -learningRate * step
                    }
                }
            }
        }
    }

    /// SGD with momentum μ (dampening 0): g ← g + λ·p; the buffer b is g on
    /// the first step, else μ·b + g; the step is b, or g + μ·b (Nesterov);
    /// p ← p − lr·step.
    public static func momentum(
        _ parameter: Tensor, gradient: Tensor, buffer: Tensor, momentum: Float, nesterov: Bool, firstStep: Bool,
        learningRate: Float, weightDecay: Float
    ) {
        checkShapes(parameter, gradient)
        checkShapes(parameter, buffer)
        parameter.withMutablePointer { p in
            gradient.withPointer { g in
                buffer.withMutablePointer { b in
                    parallelFor(parameter.count, grain: grain) { range in
                        for i in range {
                            let decayed = weightDecay == 0 ? g[i] : g[i] + weightDecay * p[i]
                            b[i] = firstStep ? decayed : b[i] * momentum + decayed
                            let step = nesterov ? decayed + momentum * b[i] : b[i]
                            p[i] += -learningRate * step
                        }
                    }
                }
            }
        }
    }

    /// The per-step scalars of an Adam/AdamW update, computed in Double by
    /// the caller as PyTorch computes them in Python.
    public struct AdamStep: Sendable {
        /// 1 − β1, the weight of the gradient in the first moment.
        public var firstMomentWeight: Float
        public var beta2: Float
        /// 1 − β2 (computed in Double: 1 − Float(β2) would differ).
        public var secondMomentWeight: Float
        public var epsilon: Float
        /// lr / (1 − β1^t).
        public var stepSize: Float
        /// √(1 − β2^t).
        public var biasCorrection2Root: Float
        /// λ of coupled decay (Adam's g ← g + λ·p); 0 for none.
        public var coupledWeightDecay: Float
        /// 1 − lr·λ of decoupled decay (AdamW's p ← p·(1 − lr·λ)); 1 for none.
        public var decoupledDecayFactor: Float

        public init(firstMomentWeight: Float, beta2: Float, secondMomentWeight: Float, epsilon: Float, stepSize: Float,
                    biasCorrection2Root: Float, coupledWeightDecay: Float, decoupledDecayFactor: Float) {
            self.firstMomentWeight = firstMomentWeight
            self.beta2 = beta2
            self.secondMomentWeight = secondMomentWeight
            self.epsilon = epsilon
            self.stepSize = stepSize
            self.biasCorrection2Root = biasCorrection2Root
            self.coupledWeightDecay = coupledWeightDecay
            self.decoupledDecayFactor = decoupledDecayFactor
        }
    }

    /// Adam / AdamW: p ← p·(1 − lr·λ) (decoupled) or g ← g + λ·p (coupled);
    /// m ← lerp(m, g, 1 − β1); v ← β2·v + (1 − β2)·g²;
    /// p ← p − stepSize · m / (√v / √(1 − β2^t) + ε).
    public static func adam(_ parameter: Tensor, gradient: Tensor, firstMoment: Tensor, secondMoment: Tensor, step: AdamStep) {
        checkShapes(parameter, gradient)
        checkShapes(parameter, firstMoment)
        checkShapes(parameter, secondMoment)
        let weight = step.firstMomentWeight, complement = step.secondMomentWeight
        parameter.withMutablePointer { p in
            gradient.withPointer { g in
                firstMoment.withMutablePointer { m in
                    secondMoment.withMutablePointer { v in
                        parallelFor(parameter.count, grain: grain) { range in
                            for i in range {
                                if step.decoupledDecayFactor != 1 { p[i] *= step.decoupledDecayFactor }
                                let gradient = step.coupledWeightDecay == 0 ? g[i] : g[i] + step.coupledWeightDecay * p[i]
                                // torch.lerp's form for a weight below ½.
                                m[i] = weight < 0.5 ? m[i] + weight * (gradient - m[i]) : gradient - (gradient - m[i]) * (1 - weight)
                                v[i] = v[i] * step.beta2 + complement * (gradient * gradient)
                                let denominator = v[i].squareRoot() / step.biasCorrection2Root + step.epsilon
                                p[i] += -step.stepSize * (m[i] / denominator)
                            }
                        }
                    }
                }
            }
        }
    }

    private static func checkShapes(_ parameter: Tensor, _ other: Tensor) {
        precondition(parameter.count == other.count, "optimiser update: \(parameter.shape) against \(other.shape)")
    }
}
