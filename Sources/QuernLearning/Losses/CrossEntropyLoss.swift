#if canImport(Glibc)
import Glibc
#endif

/// PyTorch's `nn.CrossEntropyLoss(weight: w, label_smoothing: ε)` with mean
/// reduction, over logits x [B, C] and class targets y:
///
///     log p_ic = x_ic − logsumexp_c(x_i)              (stable: max subtracted)
///     N       = Σ_i w[y_i]                            (the weighted mean's normaliser)
///     loss    = (1 − ε) · Σ_i w[y_i]·(−log p_i,y_i) / N
///             + (ε / C) · Σ_i Σ_c w_c·(−log p_ic) / N
///
/// The smoothing term is weighted by every class's weight yet normalised by
/// the targets' weights, as PyTorch does (LossNLL.cpp,
/// `cross_entropy_loss_label_smoothing`). Without weights every w is 1 and
/// N = B. Its gradient with respect to the logits, with S = Σ_c w_c:
///
///     ∂loss/∂x_ic = [(1 − ε)·w[y_i]·(p_ic − 1[c = y_i]) + (ε/C)·(p_ic·S − w_c)] / N
struct CrossEntropyLoss {
    var classWeights: [Double]?
    var labelSmoothing: Double

    func evaluate<Logit: BinaryFloatingPoint>(logits: [Logit], classCount: Int, targets: [Int], computeGradient: Bool) -> LossEvaluation {
        let weights = classWeights ?? [Double](repeating: 1, count: classCount)
        precondition(weights.count == classCount, "cross-entropy: \(weights.count) class weights for \(classCount) classes")
        let smoothing = labelSmoothing
        let weightSum = weights.reduce(0, +)
        var normaliser = 0.0
        for target in targets {
            precondition(target >= 0 && target < classCount, "cross-entropy: class \(target) outside 0..<\(classCount)")
            normaliser += weights[target]
        }
        var targetTerm = 0.0, smoothingTerm = 0.0
        var gradient = [Double](repeating: 0, count: computeGradient ? logits.count : 0)
        var row = [Double](repeating: 0, count: classCount)
        for (example, target) in targets.enumerated() {
            let start = example * classCount
            var peak = -Double.infinity
            for c in 0..<classCount {
                row[c] = Double(logits[start + c])
                peak = max(peak, row[c])
            }
            var total = 0.0
            for c in 0..<classCount { total += exp(row[c] - peak) }
            let logSumExp = peak + log(total)
            targetTerm += weights[target] * (logSumExp - row[target])
            if smoothing > 0 {
                for c in 0..<classCount { smoothingTerm += weights[c] * (logSumExp - row[c]) }
            }
            if computeGradient {
                for c in 0..<classCount {
                    let probability = exp(row[c] - logSumExp)
                    let hit: Double = c == target ? 1 : 0
                    let fromTarget = (1 - smoothing) * weights[target] * (probability - hit)
                    let fromSmoothing = smoothing / Double(classCount) * (probability * weightSum - weights[c])
                    gradient[start + c] = (fromTarget + fromSmoothing) / normaliser
                }
            }
        }
        let value = ((1 - smoothing) * targetTerm + smoothing / Double(classCount) * smoothingTerm) / normaliser
        return LossEvaluation(value: value, gradient: gradient)
    }
}
