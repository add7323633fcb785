import QuernTensor
import Testing

#if canImport(Glibc)
import Glibc
#endif

enum AttentionReference {
    static func attend(q: [Double], k: [Double], v: [Double], tq: Int, tk: Int, hq: Int, hkv: Int, d: Int, causal: Bool, bias: [Double]?) -> [Double] {
        var out = [Double](repeating: 0, count: tq * hq * d)
        for h in 0..<hq {
            let kv = h / (hq / hkv)
            for i in 0..<tq {
                var scores = (0..<tk).map { j -> Double in
                    var s = 0.0
                    for c in 0..<d { s += q[(i * hq + h) * d + c] * k[(j * hkv + kv) * d + c] }
                    return s / Double(d).squareRoot() + (bias?[j] ?? 0)
                }
                if causal { for j in 0..<tk where j > tk - tq + i { scores[j] = -.infinity } }
                let peak = scores.max()!
                let weights = scores.map { Glibc.exp($0 - peak) }
                let total = weights.reduce(0, +)
                for c in 0..<d {
                    out[(i * hq + h) * d + c] = (0..<tk).map { weights[$0] / total * v[($0 * hkv + kv) * d + c] }.reduce(0, +)
                }
            }
        }
        return out
    }
}

@Suite struct AttentionTests {
    @Test(arguments: [(1, 1, 4, 4), (5, 5, 4, 2), (3, 7, 6, 3), (1, 9, 9, 3), (16, 16, 2, 1)])
    func attentionMatchesDoubleReference(shape: (Int, Int, Int, Int)) {
        let (tq, tk, hq, hkv) = shape
        let d = 8
        let q = tensor([tq, hq, d], seed: 1), k = tensor([tk, hkv, d], seed: 2), v = tensor([tk, hkv, d], seed: 3)
        for causal in [false, true] {
            let out = scaledDotProductAttention(query: q, key: k, value: v, causal: causal)
            let ref = AttentionReference.attend(q: Reference.values(q), k: Reference.values(k), v: Reference.values(v),
                                                tq: tq, tk: tk, hq: hq, hkv: hkv, d: d, causal: causal, bias: nil)
            expectClose(out.scalars, ref, absoluteFloor: 0.1, "\(shape) causal \(causal)")
        }
        var bias = [Double](repeating: 0, count: tk)
        if tk > 2 { bias[tk - 1] = -.infinity; bias[0] = -1e30 }
        let biasTensor = try! Tensor(shape: [tk], values: bias.map(Float.init))
        let masked = scaledDotProductAttention(query: q, key: k, value: v, causal: false, keyBias: biasTensor)
        let ref = AttentionReference.attend(q: Reference.values(q), k: Reference.values(k), v: Reference.values(v),
                                            tq: tq, tk: tk, hq: hq, hkv: hkv, d: d, causal: false, bias: bias)
        expectClose(masked.scalars, ref, absoluteFloor: 0.1, "\(shape) key bias")
    }

    @Test func kvCacheDecodingEqualsFullCausalAttention() throws {
        let t = 6, hq = 4, hkv = 2, d = 8
        let q = tensor([t, hq, d], seed: 4), k = tensor([t, hkv, d], seed: 5), v = tensor([t, hkv, d], seed: 6)
        let full = scaledDotProductAttention(query: q, key: k, value: v, causal: true)
        let cache = KVCache(capacity: t, heads: hkv, headDimension: d)
        try cache.append(keys: k.rows(0..<3), values: v.rows(0..<3))
        var pieces = scaledDotProductAttention(query: q.rows(0..<3), key: cache.cachedKeys, value: cache.cachedValues, causal: true).scalars
        for i in 3..<t {
            try cache.append(keys: k.rows(i..<i + 1), values: v.rows(i..<i + 1))
            pieces += scaledDotProductAttention(query: q.rows(i..<i + 1), key: cache.cachedKeys, value: cache.cachedValues, causal: true).scalars
        }
        expectClose(pieces, Reference.values(full), tolerance: 1e-5, absoluteFloor: 0.1)
        #expect(throws: TensorError.self) { try cache.append(keys: k.rows(0..<1), values: v.rows(0..<1)) }
        cache.truncate(to: 2)
        #expect(cache.count == 2)
    }

    @Test(arguments: [RotaryEmbedding.Pairing.interleaved, .halves])
    func ropeMatchesDoubleReference(pairing: RotaryEmbedding.Pairing) {
        let tokens = 5, heads = 3, dim = 16, rotated = 12, start = 1000
        let x = tensor([tokens, heads, dim], seed: 7)
        let xs = Reference.values(x)
        let rope = RotaryEmbedding(dimensions: rotated, base: 100_000, pairing: pairing)
        let y = x.copy()
        rope.apply(y, startPosition: start)
        var expected = xs
        for t in 0..<tokens {
            for h in 0..<heads {
                let base = (t * heads + h) * dim
                for i in 0..<rotated / 2 {
                    let angle = Double(start + t) * Glibc.pow(100_000, -2 * Double(i) / Double(rotated))
                    let (a, b) = pairing == .interleaved ? (2 * i, 2 * i + 1) : (i, i + rotated / 2)
                    expected[base + a] = xs[base + a] * Glibc.cos(angle) - xs[base + b] * Glibc.sin(angle)
                    expected[base + b] = xs[base + b] * Glibc.cos(angle) + xs[base + a] * Glibc.sin(angle)
                }
            }
        }
        expectClose(y.scalars, expected, absoluteFloor: 0.1)
    }
}
