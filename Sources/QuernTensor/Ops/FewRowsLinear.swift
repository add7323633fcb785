/// y = x · Wᵀ + bias for an x of few rows (a short sentence: ~20 tokens),
/// reading W [out, in] where it lies.
///
/// sgemm packs panels of W into a scratch layout on every call; with a
/// hundred rows that cost is spread thin, but with twenty it is as large as
/// the arithmetic (a third of a short sentence's time in `perf`). Here each
/// pair of W rows is loaded once per group of four x rows, and x — a few
/// tens of KiB — stays in L1. Output features are split across the compute
/// threads. Above `fewRowsLinearLimit` rows, use `linear` (sgemm).
public func fewRowsLinear(_ x: Tensor, weight: Tensor, bias: Tensor? = nil) -> Tensor {
    precondition(weight.rank == 2 && x.lastDimension == weight.shape[1],
                 "fewRowsLinear: input \(x.shape) does not match weight \(weight.shape)")
    let rows = x.leadingCount, inputs = weight.shape[1], outputs = weight.shape[0]
    precondition(bias.map { $0.count == outputs } ?? true, "fewRowsLinear: bias needs \(outputs) values")
    let y = Tensor(zeros: Array(x.shape.dropLast()) + [outputs])
    if rows == 0 || outputs == 0 { return y }
    // Rows padded to a multiple of 4 with zeros, so the kernel has no row tail.
    let paddedRows = (rows + 3) / 4 * 4
    let padded = Tensor(zeros: [paddedRows, inputs])
    padded.rows(0..<rows).assign(x.reshaped([rows, inputs]))
    padded.withPointer { px in
        weight.withPointer { pw in
            y.withMutablePointer { py in
                let pairs = (outputs + 1) / 2
                parallelFor(pairs, grain: 16) { range in
                    var touched: Float = 0
                    for pair in range {
                        let n0 = 2 * pair, n1 = min(n0 + 1, outputs - 1)
                        // Touch the next pair's cache lines now, so their loads
                        // from memory overlap this pair's arithmetic.
                        if pair + 1 < range.upperBound {
                            let next = pw + min(2 * pair + 2, outputs - 1) * inputs
                            let span = min(2, outputs - 2 * pair - 2) * inputs
                            var line = 0
                            while line < span {
                                touched += next[line]
                                line += 16
                            }
                        }
                        let b0 = bias?[flat: n0] ?? 0, b1 = bias?[flat: n1] ?? 0
                        var m = 0
                        while m < paddedRows {
                            let sums = FewRowsKernel.block(px + m * inputs, inputs, pw + n0 * inputs, pw + n1 * inputs)
                            for r in 0..<4 where m + r < rows {
                                py[(m + r) * outputs + n0] = sums[2 * r] + b0
                                if n1 != n0 { py[(m + r) * outputs + n1] = sums[2 * r + 1] + b1 }
                            }
                            m += 4
                        }
                    }
                    if touched.isNaN { FewRowsKernel.sink = touched }
                }
            }
        }
    }
    return y
}

/// Rows up to which `fewRowsLinear` beats sgemm on the machines measured.
public let fewRowsLinearLimit = 32

enum FewRowsKernel {
    /// Keeps the prefetching loads from being optimised away.
    nonisolated(unsafe) static var sink: Float = 0

    /// Dot products of 4 consecutive rows of x (row length k) with two weight
    /// rows: [x0·w0, x0·w1, x1·w0, x1·w1, x2·w0, x2·w1, x3·w0, x3·w1].
    @inline(__always)
    static func block(_ x: UnsafePointer<Float>, _ k: Int, _ w0: UnsafePointer<Float>, _ w1: UnsafePointer<Float>) -> SIMD8<Float> {
        var a00 = SIMD16<Float>(), a01 = SIMD16<Float>(), a10 = SIMD16<Float>(), a11 = SIMD16<Float>()
        var a20 = SIMD16<Float>(), a21 = SIMD16<Float>(), a30 = SIMD16<Float>(), a31 = SIMD16<Float>()
        let x1 = x + k, x2 = x + 2 * k, x3 = x + 3 * k
        var i = 0
        while i + 16 <= k {
            let v0 = BlockKernels.load16(w0 + i), v1 = BlockKernels.load16(w1 + i)
            let r0 = BlockKernels.load16(x + i), r1 = BlockKernels.load16(x1 + i)
            let r2 = BlockKernels.load16(x2 + i), r3 = BlockKernels.load16(x3 + i)
            a00.addProduct(r0, v0); a01.addProduct(r0, v1)
            a10.addProduct(r1, v0); a11.addProduct(r1, v1)
            a20.addProduct(r2, v0); a21.addProduct(r2, v1)
            a30.addProduct(r3, v0); a31.addProduct(r3, v1)
            i += 16
        }
        var sums = SIMD8<Float>(a00.sum(), a01.sum(), a10.sum(), a11.sum(), a20.sum(), a21.sum(), a30.sum(), a31.sum())
        while i < k {
            let v0 = w0[i], v1 = w1[i]
            sums += SIMD8<Float>(x[i] * v0, x[i] * v1, x1[i] * v0, x1[i] * v1, x2[i] * v0, x2[i] * v1, x3[i] * v0, x3[i] * v1)
            i += 1
        }
        return sums
    }
}
