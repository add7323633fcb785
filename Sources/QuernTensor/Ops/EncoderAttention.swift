#if canImport(Glibc)
import Glibc
#endif

/// Bidirectional multi-head self-attention over a batch of sequences padded
/// to one width, reading queries, keys and values straight out of a fused
/// projection: `qkv` is [count · width, 3 · hidden] with the query, key and
/// value columns side by side (one GEMM made all three). Returns the
/// context [count · width, hidden].
///
/// Every (sequence, head) pair is an independent task, spread over the
/// compute threads; inside a task the two products run on sgemm in the
/// calling thread. This keeps both cores busy for a single short sentence,
/// where per-head GEMMs are too small for BLAS to split.
///
/// Padding, two equivalent ways:
/// - `keyLengths[b]`: sequence b's real tokens are its first keyLengths[b]
///   positions (right padding). Only those keys are scored — identical to
///   adding float32's lowest value to the padded keys' scores, whose
///   exponentials underflow to exactly 0, but cheaper.
/// - `keyBias` [count, width]: any additive mask (0 or lowest), for masks
///   that are not a prefix.
/// Padded query rows are computed like real ones (they attend to the real
/// keys), as PyTorch does.
public func encoderSelfAttention(
    qkv: Tensor, count: Int, width: Int, heads: Int, keyLengths: [Int]? = nil, keyBias: Tensor? = nil, scale: Float? = nil
) -> Tensor {
    let fused = qkv.lastDimension
    precondition(fused % 3 == 0 && heads > 0 && (fused / 3) % heads == 0, "encoderSelfAttention: \(fused) columns are not q|k|v for \(heads) heads")
    precondition(qkv.leadingCount == count * width, "encoderSelfAttention: \(qkv.shape) is not \(count)×\(width) rows")
    precondition(keyLengths.map { $0.count == count } ?? true, "encoderSelfAttention: need \(count) key lengths")
    precondition(keyBias.map { $0.count == count * width } ?? true, "encoderSelfAttention: key bias needs \(count)×\(width) values")
    let hidden = fused / 3, dimension = hidden / heads
    let alpha = scale ?? 1 / Float(dimension).squareRoot()
    let output = Tensor(zeros: [count * width, hidden])
    if count == 0 || width == 0 || dimension == 0 { return output }

    parallelFor(count * heads, grain: 1) { tasks in
        let scores = Tensor(zeros: [width, width])
        for task in tasks {
            let sequence = task / heads, head = task % heads
            let keys = min(width, max(0, keyLengths?[sequence] ?? width))
            if keys == 0 { continue }  // no real token: the context stays 0
            let rowBase = sequence * width * fused
            let queryView = MatrixView(qkv, offset: rowBase + head * dimension, rows: width, columns: dimension, rowStride: fused)
            let keyView = MatrixView(qkv, offset: rowBase + hidden + head * dimension, rows: keys, columns: dimension, rowStride: fused)
            let valueView = MatrixView(qkv, offset: rowBase + 2 * hidden + head * dimension, rows: keys, columns: dimension, rowStride: fused)
            let scoreView = MatrixView(scores, rows: width, columns: keys, rowStride: keys)
            GEMM.run(queryView, keyView, transposeB: true, into: scoreView, alpha: alpha)
            scores.withMutablePointer { s in
                if let keyBias {
                    keyBias.withPointer { bias in
                        let b = bias + sequence * width
                        for i in 0..<width {
                            let row = s + i * keys
                            for j in 0..<keys { row[j] += b[j] }
                        }
                    }
                }
                for i in 0..<width { FastSoftmax.row(s + i * keys, keys) }
            }
            GEMM.run(scoreView, valueView,
                     into: MatrixView(output, offset: sequence * width * hidden + head * dimension, rows: width, columns: dimension, rowStride: hidden))
        }
    }
    return output
}

/// Softmax of one row in place, with a SIMD exponential whose integer
/// conversion is a bit trick (the generic SIMD float→int conversion is an
/// out-of-line loop and made softmax the hottest part of attention).
enum FastSoftmax {
    @inline(__always)
    static func row(_ p: UnsafeMutablePointer<Float>, _ n: Int) {
        var peakVector = SIMD16<Float>(repeating: -.infinity)
        var i = 0
        while i + 16 <= n {
            // Compare-and-blend: `pointwiseMax` keeps NaN semantics lane by lane and is not vectorised.
            let v = BlockKernels.load16(p + i)
            peakVector = peakVector.replacing(with: v, where: v .> peakVector)
            i += 16
        }
        var peak = peakVector.max()
        while i < n {
            peak = max(peak, p[i])
            i += 1
        }
        if peak == -.infinity {
            p.update(repeating: 0, count: n)
            return
        }
        var sums = SIMD16<Float>()
        i = 0
        while i + 16 <= n {
            let e = exp(BlockKernels.load16(p + i) - peak)
            BlockKernels.store16(e, p + i)
            sums += e
            i += 16
        }
        var total = sums.sum()
        while i < n {
            p[i] = expf(p[i] - peak)
            total += p[i]
            i += 1
        }
        let inverse = 1 / total
        i = 0
        while i + 16 <= n {
            BlockKernels.store16(BlockKernels.load16(p + i) * inverse, p + i)
            i += 16
        }
        while i < n {
            p[i] *= inverse
            i += 1
        }
    }

    /// e^x for x ≤ 0 (scores minus their maximum), to a few ulps: Cody–Waite
    /// reduction, Cephes' polynomial, and 2^n made by adding 1.5 · 2^23 to n
    /// (which leaves n in the low mantissa bits) instead of converting.
    /// Below −87.3 the result is exactly 0, so masked scores vanish.
    /// (Clamping by compare-and-blend: `clamped(lowerBound:upperBound:)` is
    /// a per-lane loop in the generated code.)
    @inline(__always)
    static func exp(_ x: SIMD16<Float>) -> SIMD16<Float> {
        let low = SIMD16<Float>(repeating: -87.3), high = SIMD16<Float>(repeating: 88.7)
        let clamped = x.replacing(with: low, where: x .< low).replacing(with: high, where: x .> high)
        let n = (clamped * 1.442_695_04).rounded(.toNearestOrEven)
        var r = clamped - n * 0.693_359_375
        r = r + n * 2.121_944_4e-4
        var p = SIMD16<Float>(repeating: 1.987_569_15e-4)
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_6e-2
        p = p * r + 1.666_666_55e-1
        p = p * r + 5.000_000_1e-1
        p = p * (r * r) + r + 1
        let shifted = unsafeBitCast(n + 12_582_912, to: SIMD16<Int32>.self) &- 0x4B40_0000
        let scale = unsafeBitCast((shifted &+ 127) &<< 23, to: SIMD16<Float>.self)
        return (p * scale).replacing(with: 0, where: x .< -87.3)
    }
}
