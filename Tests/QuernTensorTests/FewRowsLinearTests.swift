import QuernTensor
import Testing

/// fewRowsLinear against sgemm's `linear` on odd shapes (row, column and
/// feature counts that are not multiples of the kernel's blocks).
@Suite struct FewRowsLinearTests {
    @Test(arguments: [(1, 16, 1), (3, 5, 7), (4, 384, 1152), (7, 37, 3), (13, 100, 17), (20, 384, 1536), (32, 1536, 384)])
    func matchesSgemm(shape: (Int, Int, Int)) {
        let (rows, inputs, outputs) = shape
        let x = Tensor.random([rows, inputs], seed: UInt64(rows * 31 + inputs))
        let weight = Tensor.random([outputs, inputs], seed: UInt64(outputs * 7 + 1))
        let bias = Tensor.random([outputs], seed: 5)
        for b in [bias, nil] {
            let want = linear(x, weight: weight, bias: b).scalars
            let got = fewRowsLinear(x, weight: weight, bias: b)
            #expect(got.shape == [rows, outputs])
            let worst = zip(got.scalars, want).map { abs($0 - $1) }.max() ?? 0
            #expect(worst <= 1e-4 * Float(inputs).squareRoot(), "max difference \(worst)")
        }
    }

    @Test func keepsLeadingDimensions() {
        let x = Tensor.random([2, 3, 8], seed: 1), weight = Tensor.random([5, 8], seed: 2)
        #expect(fewRowsLinear(x, weight: weight).shape == [2, 3, 5])
    }
}
