import QuernTensor
import Testing

/// encoderSelfAttention (fused q|k|v, padded batch) against the double
/// reference, per sequence, on odd shapes; both padding paths must agree.
@Suite struct EncoderAttentionTests {
    @Test(arguments: [(1, 1, 1, 8), (2, 5, 3, 4), (3, 17, 4, 8), (2, 33, 2, 16), (1, 40, 12, 32)])
    func matchesReferencePerSequence(shape: (Int, Int, Int, Int)) {
        let (count, width, heads, d) = shape
        let hidden = heads * d
        let qkv = Tensor.random([count * width, 3 * hidden], seed: UInt64(count * 1000 + width), range: -2...2)
        let lengths = (0..<count).map { max(1, width - $0 * 3) }
        let mask = lengths.flatMap { length in (0..<width).map { $0 < length ? Float(0) : -Float.greatestFiniteMagnitude } }
        let byLength = encoderSelfAttention(qkv: qkv, count: count, width: width, heads: heads, keyLengths: lengths)
        let byBias = encoderSelfAttention(qkv: qkv, count: count, width: width, heads: heads,
                                          keyBias: try! Tensor(shape: [count, width], values: mask))
        let all = Reference.values(qkv)
        var worst = 0.0, pathsDiffer = 0.0
        for b in 0..<count {
            func columns(_ block: Int, rows: Int) -> [Double] {
                (0..<rows).flatMap { t in (0..<hidden).map { all[(b * width + t) * 3 * hidden + block * hidden + $0] } }
            }
            let reference = AttentionReference.attend(
                q: columns(0, rows: width), k: columns(1, rows: lengths[b]), v: columns(2, rows: lengths[b]),
                tq: width, tk: lengths[b], hq: heads, hkv: heads, d: d, causal: false, bias: nil)
            let got = byLength.rows(b * width..<(b + 1) * width).scalars
            let other = byBias.rows(b * width..<(b + 1) * width).scalars
            for i in reference.indices {
                worst = max(worst, abs(Double(got[i]) - reference[i]))
                pathsDiffer = max(pathsDiffer, Double(abs(got[i] - other[i])))
            }
        }
        #expect(worst < 2e-5, "max error \(worst)")
        #expect(pathsDiffer < 1e-5, "key lengths and key bias differ by \(pathsDiffer)")
    }

    @Test func sequenceWithoutRealTokensGivesZeros() {
        let qkv = Tensor.random([4, 24], seed: 9)
        let out = encoderSelfAttention(qkv: qkv, count: 2, width: 2, heads: 2, keyLengths: [2, 0])
        #expect(out.rows(2..<4).scalars.allSatisfy { $0 == 0 })
    }
}
