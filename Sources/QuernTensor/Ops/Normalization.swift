#if canImport(Glibc)
import Glibc
#endif

/// Runs `body(rowPointer, outPointer)` for every row of the last dimension,
/// spread over the compute threads.
@inline(__always)
func forEachRow(_ x: Tensor, into out: Tensor, _ body: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void) {
    precondition(x.count == out.count, "row operation: \(x.shape) into \(out.shape)")
    let width = x.lastDimension
    let rows = x.leadingCount
    if rows == 0 || width == 0 { return }
    x.withPointer { px in
        out.withMutablePointer { po in
            parallelFor(rows, grain: max(1, 8192 / width)) { range in
                for r in range { body(px + r * width, po + r * width, width) }
            }
        }
    }
}

@inline(__always)
func rowSum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = SIMD16<Float>()
    var i = 0
    while i + 16 <= n {
        acc += BlockKernels.load16(p + i)
        i += 16
    }
    var total = acc.sum()
    while i < n {
        total += p[i]
        i += 1
    }
    return total
}

/// Σ (p[i] - mean)², two-pass so large means do not cancel.
@inline(__always)
func rowCenteredSquares(_ p: UnsafePointer<Float>, _ n: Int, mean: Float) -> Float {
    var acc = SIMD16<Float>()
    var i = 0
    while i + 16 <= n {
        let d = BlockKernels.load16(p + i) - mean
        acc.addProduct(d, d)
        i += 16
    }
    var total = acc.sum()
    while i < n {
        total += (p[i] - mean) * (p[i] - mean)
        i += 1
    }
    return total
}

/// LayerNorm over the last dimension: (x − mean) / √(var + eps) · gamma + beta.
public func layerNorm(_ x: Tensor, gamma: Tensor, beta: Tensor?, epsilon: Float) -> Tensor {
    let out = Tensor(zeros: x.shape)
    layerNorm(x, gamma: gamma, beta: beta, epsilon: epsilon, into: out)
    return out
}

public func layerNorm(_ x: Tensor, gamma: Tensor, beta: Tensor?, epsilon: Float, into out: Tensor) {
    let width = x.lastDimension
    precondition(gamma.count == width && (beta?.count ?? width) == width, "layerNorm: parameters do not match width \(width)")
    gamma.withPointer { g in
        let bias = beta ?? Tensor(zeros: [width])
        bias.withPointer { b in
            forEachRow(x, into: out) { row, o, n in
                let mean = rowSum(row, n) / Float(n)
                let inverse = 1 / (rowCenteredSquares(row, n, mean: mean) / Float(n) + epsilon).squareRoot()
                var i = 0
                while i + 16 <= n {
                    let v = (BlockKernels.load16(row + i) - mean) * inverse
                    BlockKernels.store16(v * BlockKernels.load16(g + i) + BlockKernels.load16(b + i), o + i)
                    i += 16
                }
                while i < n {
                    o[i] = (row[i] - mean) * inverse * g[i] + b[i]
                    i += 1
                }
            }
        }
    }
}

/// RMSNorm over the last dimension: x / √(mean(x²) + eps) · gamma.
public func rmsNorm(_ x: Tensor, gamma: Tensor, epsilon: Float) -> Tensor {
    let out = Tensor(zeros: x.shape)
    let width = x.lastDimension
    precondition(gamma.count == width, "rmsNorm: gamma has \(gamma.count) values, width is \(width)")
    gamma.withPointer { g in
        forEachRow(x, into: out) { row, o, n in
            let inverse = 1 / (rowCenteredSquares(row, n, mean: 0) / Float(n) + epsilon).squareRoot()
            var i = 0
            while i + 16 <= n {
                BlockKernels.store16(BlockKernels.load16(row + i) * inverse * BlockKernels.load16(g + i), o + i)
                i += 16
            }
            while i < n {
                o[i] = row[i] * inverse * g[i]
                i += 1
            }
        }
    }
    return out
}

/// Numerically stable softmax over the last dimension: the row maximum is
/// subtracted first, and rows that are entirely −inf become all zeros
/// instead of NaN.
public func softmax(_ x: Tensor) -> Tensor {
    let out = Tensor(zeros: x.shape)
    forEachRow(x, into: out) { row, o, n in softmaxRow(row, o, n) }
    return out
}

public func softmaxInPlace(_ x: Tensor) {
    forEachRow(x, into: x) { row, o, n in softmaxRow(row, o, n) }
}

@inline(__always)
func softmaxRow(_ row: UnsafePointer<Float>, _ o: UnsafeMutablePointer<Float>, _ n: Int) {
    // The maximum by compare-and-blend: `pointwiseMax` and `max` on SIMD
    // vectors are not vectorised.
    var peakVector = SIMD16<Float>(repeating: -.infinity)
    var i = 0
    while i + 16 <= n {
        let v = BlockKernels.load16(row + i)
        peakVector = peakVector.replacing(with: v, where: v .> peakVector)
        i += 16
    }
    var peak = peakVector.max()
    while i < n {
        peak = max(peak, row[i])
        i += 1
    }
    if peak == -.infinity {
        o.update(repeating: 0, count: n)
        return
    }
    var acc = SIMD16<Float>()
    i = 0
    while i + 16 <= n {
        let e = VectorMath.exp(BlockKernels.load16(row + i) - peak)
        BlockKernels.store16(e, o + i)
        acc += e
        i += 16
    }
    var total = acc.sum()
    while i < n {
        o[i] = expf(row[i] - peak)
        total += o[i]
        i += 1
    }
    let inverse = 1 / total
    i = 0
    while i + 16 <= n {
        BlockKernels.store16(BlockKernels.load16(o + i) * inverse, o + i)
        i += 16
    }
    while i < n {
        o[i] *= inverse
        i += 1
    }
}

/// log-softmax over the last dimension (for log-probabilities).
public func logSoftmax(_ x: Tensor) -> Tensor {
    let out = Tensor(zeros: x.shape)
    forEachRow(x, into: out) { row, o, n in
        var peak = -Float.infinity
        for i in 0..<n { peak = max(peak, row[i]) }
        var total: Double = 0
        for i in 0..<n { total += Double(expf(row[i] - peak)) }
        let logTotal = Float(Glibc.log(total)) + peak
        for i in 0..<n { o[i] = row[i] - logTotal }
    }
    return out
}

/// Folds an eval-mode BatchNorm that follows a convolution into the
/// convolution: w' = w · γ/√(σ² + eps) per output channel and
/// b' = (b − μ) · γ/√(σ² + eps) + β. Returns the new weight and bias.
public func foldBatchNorm(
    convWeight: Tensor, convBias: Tensor?, gamma: Tensor, beta: Tensor, mean: Tensor, variance: Tensor, epsilon: Float
) -> (weight: Tensor, bias: Tensor) {
    let channels = convWeight.shape[0]
    precondition([gamma, beta, mean, variance].allSatisfy { $0.count == channels } && (convBias?.count ?? channels) == channels,
                 "foldBatchNorm: parameters do not match \(channels) output channels")
    let perChannel = convWeight.count / max(channels, 1)
    let weight = convWeight.copy()
    let bias = Tensor(zeros: [channels])
    for c in 0..<channels {
        let factor = gamma[flat: c] / (variance[flat: c] + epsilon).squareRoot()
        weight.withMutablePointer { w in
            for i in 0..<perChannel { w[c * perChannel + i] *= factor }
        }
        bias[flat: c] = ((convBias?[flat: c] ?? 0) - mean[flat: c]) * factor + beta[flat: c]
    }
    return (weight, bias)
}
