extension Tensor {
    /// The last dimension (1 for a scalar-shaped tensor).
    public var lastDimension: Int { shape.last ?? 1 }
    /// Every dimension but the last, multiplied: the number of "rows".
    public var leadingCount: Int { lastDimension == 0 ? shape.dropLast().reduce(1, *) : count / lastDimension }
}

/// op(A) · op(B) for 2-D tensors, through `cblas_sgemm`.
public func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
    precondition(a.rank == 2 && b.rank == 2, "matmul takes 2-D tensors, got \(a.shape) and \(b.shape)")
    let m = transposeA ? a.shape[1] : a.shape[0]
    let n = transposeB ? b.shape[0] : b.shape[1]
    let c = Tensor(zeros: [m, n])
    GEMM.run(MatrixView(a), transposeA: transposeA, MatrixView(b), transposeB: transposeB, into: MatrixView(c))
    return c
}

/// Batched op(A[i]) · op(B[i]) for 3-D tensors [batch, rows, columns]; a
/// batch of 1 on either side is broadcast.
public func batchedMatmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
    precondition(a.rank == 3 && b.rank == 3, "batchedMatmul takes 3-D tensors, got \(a.shape) and \(b.shape)")
    let batch = max(a.shape[0], b.shape[0])
    precondition((a.shape[0] == batch || a.shape[0] == 1) && (b.shape[0] == batch || b.shape[0] == 1),
                 "batch sizes \(a.shape[0]) and \(b.shape[0]) do not broadcast")
    let m = transposeA ? a.shape[2] : a.shape[1]
    let n = transposeB ? b.shape[1] : b.shape[2]
    let c = Tensor(zeros: [batch, m, n])
    let aSize = a.shape[1] * a.shape[2], bSize = b.shape[1] * b.shape[2]
    for i in 0..<batch {
        let ai = a.shape[0] == 1 ? 0 : i, bi = b.shape[0] == 1 ? 0 : i
        GEMM.run(
            MatrixView(a, offset: ai * aSize, rows: a.shape[1], columns: a.shape[2]), transposeA: transposeA,
            MatrixView(b, offset: bi * bSize, rows: b.shape[1], columns: b.shape[2]), transposeB: transposeB,
            into: MatrixView(c, offset: i * m * n, rows: m, columns: n))
    }
    return c
}

/// A linear layer: x[..., in] · weightᵀ + bias, with `weight` [out, in] as
/// nn.Linear stores it. Leading dimensions are kept.
public func linear(_ x: Tensor, weight: Tensor, bias: Tensor? = nil) -> Tensor {
    precondition(weight.rank == 2 && x.lastDimension == weight.shape[1],
                 "linear: input \(x.shape) does not match weight \(weight.shape)")
    let rows = x.leadingCount, outFeatures = weight.shape[0]
    let y = Tensor(zeros: Array(x.shape.dropLast()) + [outFeatures])
    if let bias {
        precondition(bias.count == outFeatures, "linear: bias has \(bias.count) values, expected \(outFeatures)")
        broadcastRows(bias, into: y, rows: rows)
    }
    GEMM.run(MatrixView(x, rows: rows, columns: weight.shape[1]), MatrixView(weight), transposeB: true,
             into: MatrixView(y, rows: rows, columns: outFeatures), beta: bias == nil ? 0 : 1)
    return y
}

/// Fills each of `rows` rows of `y` with `vector`.
func broadcastRows(_ vector: Tensor, into y: Tensor, rows: Int) {
    let width = vector.count
    vector.withPointer { v in
        y.withMutablePointer { out in
            for r in 0..<rows { (out + r * width).update(from: v, count: width) }
        }
    }
}
