/// Optimiser updates of one parameter tensor in place, in the order of
/// operations torch.optim uses (its single-tensor path, the CPU default),
/// so that float32 results track PyTorch's to rounding. Constants arrive as
/// Float, as PyTorch casts its Python scalars to the tensor's type.
///
/// Every element is updated independently, so the work is split over the
/// compute threads without changing any result.
public enum ParameterUpdate {
    private static let grain = 1 << 14

    /// Plain SGD: g ← g + λ·p (coupled weight decay; λ = 0 adds nothing),
    /// then p ← p − lr·g.
    public static func sgd(_ parameter: Tensor, gradient: Tensor, learningRate: Float, weightDecay: Float) {
        checkShapes(parameter, gradient)
        let rate = -learningRate
        parameter.withMutablePointer { p in
            gradient.withPointer { g in
                forEachBlock(parameter.count) { i in
                    let w = BlockKernels.load16(p + i)
                    BlockKernels.store16(w + rate * (BlockKernels.load16(g + i) + weightDecay * w), p + i)
                } scalar: { i in
                    p[i] += rate * (g[i] + weightDecay * p[i])
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
        let rate = -learningRate
        // On the first step the buffer is the gradient itself: μ·0 + g is
        // exactly g, so one formula serves once the buffer starts at 0.
        let carried: Float = firstStep ? 0 : momentum
        parameter.withMutablePointer { p in
            gradient.withPointer { g in
                buffer.withMutablePointer { b in
                    forEachBlock(parameter.count) { i in
                        let w = BlockKernels.load16(p + i)
                        let decayed = BlockKernels.load16(g + i) + weightDecay * w
                        let velocity = BlockKernels.load16(b + i) * carried + decayed
                        BlockKernels.store16(velocity, b + i)
                        BlockKernels.store16(w + rate * (nesterov ? decayed + momentum * velocity : velocity), p + i)
                    } scalar: { i in
                        let decayed = g[i] + weightDecay * p[i]
                        b[i] = b[i] * carried + decayed
                        p[i] += rate * (nesterov ? decayed + momentum * b[i] : b[i])
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
    /// An unused decay is a factor of 1 or a term of 0, both exact.
    public static func adam(_ parameter: Tensor, gradient: Tensor, firstMoment: Tensor, secondMoment: Tensor, step: AdamStep) {
        checkShapes(parameter, gradient)
        checkShapes(parameter, firstMoment)
        checkShapes(parameter, secondMoment)
        let weight = step.firstMomentWeight, complement = step.secondMomentWeight, beta2 = step.beta2
        let factor = step.decoupledDecayFactor, decay = step.coupledWeightDecay
        let rate = -step.stepSize, root = step.biasCorrection2Root, epsilon = step.epsilon
        // torch.lerp's two forms, chosen by the weight (½ and above: from the end).
        let fromStart = weight < 0.5
        parameter.withMutablePointer { p in
            gradient.withPointer { g in
                firstMoment.withMutablePointer { m in
                    secondMoment.withMutablePointer { v in
                        forEachBlock(parameter.count) { i in
                            let w = BlockKernels.load16(p + i) * factor
                            let gradient = BlockKernels.load16(g + i) + decay * w
                            let previous = BlockKernels.load16(m + i)
                            let first = fromStart ? previous + weight * (gradient - previous) : gradient - (gradient - previous) * (1 - weight)
                            let second = BlockKernels.load16(v + i) * beta2 + complement * (gradient * gradient)
                            BlockKernels.store16(first, m + i)
                            BlockKernels.store16(second, v + i)
                            BlockKernels.store16(w + rate * (first / (second.squareRoot() / root + epsilon)), p + i)
                        } scalar: { i in
                            let w = p[i] * factor
                            let gradient = g[i] + decay * w
                            m[i] = fromStart ? m[i] + weight * (gradient - m[i]) : gradient - (gradient - m[i]) * (1 - weight)
                            v[i] = v[i] * beta2 + complement * (gradient * gradient)
                            p[i] = w + rate * (m[i] / (v[i].squareRoot() / root + epsilon))
                        }
                    }
                }
            }
        }
    }

    /// Runs `simd(i)` for each whole block of 16 elements and `scalar(i)` for
    /// the rest, split over the compute threads in whole blocks.
    @inline(__always)
    private static func forEachBlock(_ count: Int, _ simd: (Int) -> Void, scalar: (Int) -> Void) {
        let blocks = count / 16
        parallelFor(blocks, grain: grain / 16) { range in
            for block in range { simd(block * 16) }
        }
        for i in (blocks * 16)..<count { scalar(i) }
    }

    private static func checkShapes(_ parameter: Tensor, _ other: Tensor) {
        precondition(parameter.count == other.count, "optimiser update: \(parameter.shape) against \(other.shape)")
    }
}
