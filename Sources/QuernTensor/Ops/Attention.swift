#if canImport(Glibc)
import Glibc
#endif

/// Keys and values of past positions for one attention layer, so that each
/// new token attends to them without recomputing them.
public final class KVCache: @unchecked Sendable {
    public let capacity: Int
    public let heads: Int
    public let headDimension: Int
    public private(set) var count = 0
    let keys: Tensor
    let values: Tensor

    public init(capacity: Int, heads: Int, headDimension: Int) {
        self.capacity = capacity
        self.heads = heads
        self.headDimension = headDimension
        keys = Tensor(zeros: [capacity, heads, headDimension])
        values = Tensor(zeros: [capacity, heads, headDimension])
    }

    /// Appends [tokens, heads, headDimension] keys and values.
    public func append(keys newKeys: Tensor, values newValues: Tensor) throws(TensorError) {
        let tokens = newKeys.shape.first ?? 0
        guard newKeys.shape == [tokens, heads, headDimension], newValues.shape == newKeys.shape else {
            throw .invalidShape(newKeys.shape, reason: "KV cache holds [*, \(heads), \(headDimension)]")
        }
        guard count + tokens <= capacity else {
            throw .indexOutOfRange(index: count + tokens, count: capacity + 1, what: "KV cache position")
        }
        keys.rows(count..<count + tokens).assign(newKeys)
        values.rows(count..<count + tokens).assign(newValues)
        count += tokens
    }

    /// Forgets everything from position `length` on.
    public func truncate(to length: Int) {
        count = max(0, min(count, length))
    }

    public var cachedKeys: Tensor { keys.rows(0..<count) }
    public var cachedValues: Tensor { values.rows(0..<count) }

    /// A new cache of `newCapacity` positions (at least `count`) holding a
    /// copy of this one's keys and values: a kept conversation prefix
    /// continued by a turn that needs more room than it was allocated with.
    public func copy(capacity newCapacity: Int) -> KVCache {
        let copy = KVCache(capacity: max(newCapacity, count), heads: heads, headDimension: headDimension)
        if count > 0 {
            copy.keys.rows(0..<count).assign(cachedKeys)
            copy.values.rows(0..<count).assign(cachedValues)
        }
        copy.count = count
        return copy
    }

    /// Bytes its keys and values occupy (allocated for `capacity` positions).
    public var allocatedBytes: Int { 2 * capacity * heads * headDimension * MemoryLayout<Float>.stride }
}

/// softmax(Q Kᵀ · scale + mask) V for every head.
///
/// - query [Tq, Hq, D], key [Tk, Hkv, D], value [Tk, Hkv, Dv]; Hq must be a
///   multiple of Hkv, and query head h reads kv head h / (Hq / Hkv)
///   (grouped-query attention, contiguous groups as `repeat_interleave`).
/// - causal: query i sits at key position `Tk − Tq + i` and sees keys up to it
///   (with a KV cache the queries are the newest positions).
/// - keyBias: an additive [Tk] bias (a padding mask: 0 or −inf / lowest).
/// - Returns [Tq, Hq, Dv].
public func scaledDotProductAttention(
    query: Tensor, key: Tensor, value: Tensor, causal: Bool, keyBias: Tensor? = nil, scale: Float? = nil
) -> Tensor {
    precondition(query.rank == 3 && key.rank == 3 && value.rank == 3, "attention takes [T, heads, dim] tensors")
    let tq = query.shape[0], hq = query.shape[1], d = query.shape[2]
    let tk = key.shape[0], hkv = key.shape[1], dv = value.shape[2]
    precondition(key.shape[2] == d && value.shape[0] == tk && value.shape[1] == hkv, "attention: key \(key.shape) / value \(value.shape) do not match query \(query.shape)")
    precondition(hkv > 0 && hq % hkv == 0, "attention: \(hq) query heads cannot share \(hkv) key/value heads")
    precondition(!causal || tk >= tq, "causal attention needs at least as many keys as queries")
    precondition(keyBias == nil || keyBias!.count == tk, "attention: key bias needs \(tk) values")
    let group = hq / hkv
    let alpha = scale ?? 1 / Float(d).squareRoot()
    let output = Tensor(zeros: [tq, hq, dv])
    if tq == 0 || hq == 0 { return output }
    if tk == 0 { return output }

    if tq == 1 {
        // One query (token-by-token decoding): plain SIMD dot products, heads in parallel.
        query.withPointer { q in
            key.withPointer { k in
                value.withPointer { v in
                    output.withMutablePointer { o in
                        let bias = keyBias
                        parallelFor(hq, grain: 1) { heads in
                            let scores = UnsafeMutablePointer<Float>.allocate(capacity: tk)
                            defer { scores.deallocate() }
                            for h in heads {
                                let kvHead = h / group
                                for j in 0..<tk {
                                    scores[j] = BlockKernels.dotF32(q + h * d, k + (j * hkv + kvHead) * d, d) * alpha
                                }
                                if let bias { bias.withPointer { b in for j in 0..<tk { scores[j] += b[j] } } }
                                softmaxRow(scores, scores, tk)
                                let out = o + h * dv
                                for j in 0..<tk {
                                    let weight = scores[j], row = v + (j * hkv + kvHead) * dv
                                    for c in 0..<dv { out[c] += weight * row[c] }
                                }
                            }
                        }
                    }
                }
            }
        }
        return output
    }

    let scores = Tensor(zeros: [tq, tk])
    for h in 0..<hq {
        let kvHead = h / group
        GEMM.run(
            MatrixView(query, offset: h * d, rows: tq, columns: d, rowStride: hq * d),
            MatrixView(key, offset: kvHead * d, rows: tk, columns: d, rowStride: hkv * d), transposeB: true,
            into: MatrixView(scores), alpha: alpha)
        scores.withMutablePointer { s in
            let firstPosition = tk - tq
            parallelFor(tq, grain: max(1, 4096 / tk)) { rows in
                for i in rows {
                    let row = s + i * tk
                    if let keyBias { keyBias.withPointer { b in for j in 0..<tk { row[j] += b[j] } } }
                    if causal {
                        let last = firstPosition + i
                        if last + 1 < tk { (row + last + 1).update(repeating: -.infinity, count: tk - last - 1) }
                    }
                    softmaxRow(row, row, tk)
                }
            }
        }
        GEMM.run(
            MatrixView(scores), MatrixView(value, offset: kvHead * dv, rows: tk, columns: dv, rowStride: hkv * dv),
            into: MatrixView(output, offset: h * dv, rows: tq, columns: dv, rowStride: hq * dv))
    }
    return output
}
