import QuernTensor
import Testing

@Suite struct GEMMTests {
    static let shapes: [(Int, Int, Int)] = [(1, 1, 1), (3, 5, 7), (17, 1, 33), (64, 64, 64), (129, 67, 31), (0, 4, 5), (4, 0, 5), (4, 5, 0), (2, 300, 513)]

    @Test(arguments: shapes)
    func matmulMatchesDoubleReference(shape: (Int, Int, Int)) {
        let (m, k, n) = shape
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let a = tensor(ta ? [k, m] : [m, k], seed: UInt64(m * 31 + k))
            let b = tensor(tb ? [n, k] : [k, n], seed: UInt64(n * 17 + k))
            let c = matmul(a, b, transposeA: ta, transposeB: tb)
            #expect(c.shape == [m, n])
            let ref = Reference.matmul(Reference.values(a), (a.shape[0], a.shape[1]), transposeA: ta,
                                       Reference.values(b), (b.shape[0], b.shape[1]), transposeB: tb)
            expectClose(c.scalars, ref.values, scale: ref.scale, "matmul \(shape) ta=\(ta) tb=\(tb)")
        }
    }

    @Test func stridedViewsReadHeadsWithoutCopies() {
        // q: [T=5, heads=3, dim=4]; multiply head 1 by a [4, 2] matrix.
        let q = tensor([5, 3, 4], seed: 1), w = tensor([4, 2], seed: 2)
        let out = Tensor(zeros: [5, 2])
        GEMM.run(MatrixView(q, offset: 4, rows: 5, columns: 4, rowStride: 12), MatrixView(w), into: MatrixView(out))
        let qv = q.scalars
        let head = (0..<5).flatMap { t in (0..<4).map { Double(qv[t * 12 + 4 + $0]) } }
        let ref = Reference.matmul(head, (5, 4), transposeA: false, Reference.values(w), (4, 2), transposeB: false)
        expectClose(out.scalars, ref.values, scale: ref.scale)
    }

    @Test func alphaAndBetaAccumulate() {
        let a = tensor([3, 4], seed: 3), b = tensor([4, 2], seed: 4)
        let c = tensor([3, 2], seed: 5)
        let before = Reference.values(c)
        GEMM.run(MatrixView(a), MatrixView(b), into: MatrixView(c), alpha: 0.5, beta: 2)
        let ref = Reference.matmul(Reference.values(a), (3, 4), transposeA: false, Reference.values(b), (4, 2), transposeB: false)
        expectClose(c.scalars, zip(ref.values, before).map { 0.5 * $0 + 2 * $1 }, scale: zip(ref.scale, before).map { $0 + 2 * abs($1) })
    }

    @Test func matrixVectorBothWays() {
        let a = tensor([7, 5], seed: 6), x5 = tensor([5], seed: 7), x7 = tensor([7], seed: 8)
        let y7 = Tensor(zeros: [7]), y5 = Tensor(zeros: [5])
        GEMM.matrixVector(MatrixView(a), x: x5, into: y7)
        GEMM.matrixVector(MatrixView(a), transpose: true, x: x7, into: y5)
        let r7 = Reference.matmul(Reference.values(a), (7, 5), transposeA: false, Reference.values(x5), (5, 1), transposeB: false)
        let r5 = Reference.matmul(Reference.values(a), (7, 5), transposeA: true, Reference.values(x7), (7, 1), transposeB: false)
        expectClose(y7.scalars, r7.values, scale: r7.scale)
        expectClose(y5.scalars, r5.values, scale: r5.scale)
    }

    @Test func batchedMatmulBroadcastsABatchOfOne() {
        let a = tensor([3, 4, 5], seed: 9), b = tensor([1, 5, 6], seed: 10)
        let c = batchedMatmul(a, b)
        #expect(c.shape == [3, 4, 6])
        let av = Reference.values(a), bv = Reference.values(b)
        for i in 0..<3 {
            let ref = Reference.matmul(Array(av[i * 20..<(i + 1) * 20]), (4, 5), transposeA: false, bv, (5, 6), transposeB: false)
            expectClose(Array(c.scalars[i * 24..<(i + 1) * 24]), ref.values, scale: ref.scale, "batch \(i)")
        }
        let t = batchedMatmul(a, tensor([3, 6, 5], seed: 11), transposeB: true)
        #expect(t.shape == [3, 4, 6])
    }

    @Test func linearKeepsLeadingDimensionsAndAddsBias() {
        let x = tensor([2, 3, 8], seed: 12), w = tensor([5, 8], seed: 13), bias = tensor([5], seed: 14)
        let y = linear(x, weight: w, bias: bias)
        #expect(y.shape == [2, 3, 5])
        let ref = Reference.matmul(Reference.values(x), (6, 8), transposeA: false, Reference.values(w), (5, 8), transposeB: true)
        let bv = Reference.values(bias)
        expectClose(y.scalars, ref.values.enumerated().map { $0.element + bv[$0.offset % 5] },
                    scale: ref.scale.enumerated().map { $0.element + abs(bv[$0.offset % 5]) })
    }
}
