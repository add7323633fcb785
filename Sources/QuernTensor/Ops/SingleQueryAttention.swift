/// softmax(q · Kᵀ · scale) · V for one query per head over keys and values
/// laid out head-major, [heads, keys, dimension]: the cross-attention of a
/// decoding step, whose keys (an encoder's output, computed once) are read
/// as contiguous rows instead of with a stride of every head.
///
/// - query [heads, dimension]; keys, values [heads, keys, dimension].
/// - Returns [heads, dimension]. Heads run in parallel on the compute threads.
public func singleQueryAttention(query: Tensor, keys: Tensor, values: Tensor, scale: Float? = nil) -> Tensor {
    precondition(query.rank == 2 && keys.rank == 3 && values.shape == keys.shape, "singleQueryAttention: query \(query.shape), keys \(keys.shape), values \(values.shape)")
    let heads = query.shape[0], dimension = query.shape[1], count = keys.shape[1]
    precondition(keys.shape[0] == heads && keys.shape[2] == dimension, "singleQueryAttention: keys \(keys.shape) do not match query \(query.shape)")
    let alpha = scale ?? 1 / Float(dimension).squareRoot()
    let output = Tensor(zeros: [heads, dimension])
    if heads == 0 || count == 0 || dimension == 0 { return output }
    query.withPointer { q in
        keys.withPointer { k in
            values.withPointer { v in
                output.withMutablePointer { o in
                    parallelFor(heads, grain: 1) { range in
                        let scores = UnsafeMutablePointer<Float>.allocate(capacity: count)
                        defer { scores.deallocate() }
                        for head in range {
                            let qh = q + head * dimension, kh = k + head * count * dimension, vh = v + head * count * dimension
                            for j in 0..<count { scores[j] = BlockKernels.dotF32(qh, kh + j * dimension, dimension) * alpha }
                            softmaxRow(scores, scores, count)
                            accumulateWeightedRows(scores, vh, count: count, dimension: dimension, into: o + head * dimension)
                        }
                    }
                }
            }
        }
    }
    return output
}

/// out = Σ_j weights[j] · rows[j] (rows of `dimension` values, contiguous).
@inline(__always)
private func accumulateWeightedRows(_ weights: UnsafePointer<Float>, _ rows: UnsafePointer<Float>, count: Int, dimension: Int,
                                    into out: UnsafeMutablePointer<Float>) {
    var column = 0
    // Sixteen columns at a time, every row's contribution in registers.
    while column + 16 <= dimension {
        var sum = SIMD16<Float>()
        for j in 0..<count { sum.addProduct(SIMD16(repeating: weights[j]), BlockKernels.load16(rows + j * dimension + column)) }
        BlockKernels.store16(sum, out + column)
        column += 16
    }
    while column < dimension {
        var sum: Float = 0
        for j in 0..<count { sum += weights[j] * rows[j * dimension + column] }
        out[column] = sum
        column += 1
    }
}
