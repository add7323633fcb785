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
                for i in 0..<width { softmaxRow(s + i * keys, s + i * keys, keys) }
            }
            GEMM.run(scoreView, valueView,
                     into: MatrixView(output, offset: sequence * width * hidden + head * dimension, rows: width, columns: dimension, rowStride: hidden))
        }
    }
    return output
}
