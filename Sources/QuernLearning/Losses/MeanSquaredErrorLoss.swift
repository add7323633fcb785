/// PyTorch's `nn.MSELoss()` (mean reduction) over outputs [B, W] and targets
/// of the same count: loss = Σ (y − t)² / (B·W), gradient 2(y − t) / (B·W).
/// A regression head has W = 1.
enum MeanSquaredErrorLoss {
    static func evaluate<Output: BinaryFloatingPoint>(outputs: [Output], width: Int, targets: [Float], computeGradient: Bool) -> LossEvaluation {
        precondition(outputs.count == targets.count * width && width == 1,
                     "mean squared error: \(outputs.count) outputs for \(targets.count) targets of width \(width)")
        let count = Double(outputs.count)
        var sum = 0.0
        var gradient = [Double](repeating: 0, count: computeGradient ? outputs.count : 0)
        for index in outputs.indices {
            let difference = Double(outputs[index]) - Double(targets[index])
            sum += difference * difference
            if computeGradient { gradient[index] = 2 * difference / count }
        }
        return LossEvaluation(value: sum / count, gradient: gradient)
    }
}
