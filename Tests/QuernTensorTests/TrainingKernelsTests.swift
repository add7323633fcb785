import QuernTensor
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The training kernels against plain double-precision loops, on widths
/// that exercise both the 16-wide body and the scalar tail.
@Suite struct TrainingKernelsTests {
    @Test func gatherRowsCopiesTheNamedRowsInOrder() {
        let source = tensor([6, 19], seed: 1)
        let destination = Tensor(repeating: 7, shape: [4, 19])
        gatherRows(source, indices: [5, 0, 5], into: destination)
        let from = source.scalars, to = destination.scalars
        #expect(Array(to[0..<19]) == Array(from[95..<114]))
        #expect(Array(to[19..<38]) == Array(from[0..<19]))
        #expect(Array(to[38..<57]) == Array(from[95..<114]))
        #expect(to[57...].allSatisfy { $0 == 7 })
    }

    @Test(arguments: [1, 7, 16, 35])
    func columnSumsAddEveryRow(width: Int) {
        let matrix = tensor([9, width], seed: UInt64(width))
        let sums = Tensor(repeating: 3, shape: [width])
        columnSums(matrix, into: sums)
        let values = Reference.values(matrix)
        let expected = (0..<width).map { c in (0..<9).map { values[$0 * width + c] }.reduce(0, +) }
        expectClose(sums.scalars, expected, absoluteFloor: 1, "columnSums")
    }

    @Test func reluBackwardPassesTheGradientWherePositive() {
        let z = tensor([3, 21], seed: 2)
        z[flat: 4] = 0
        let gradient = tensor([3, 21], seed: 3)
        let before = gradient.scalars
        reluBackward(preActivation: z, gradient: gradient)
        let expected = zip(z.scalars, before).map { $0 > 0 ? $1 : 0 }
        #expect(gradient.scalars == expected)
    }

    @Test func geluBackwardIsTheDerivativeOfTheErfForm() {
        let z = tensor([5, 37], seed: 4, range: -6...6)
        let gradient = tensor([5, 37], seed: 5)
        let upstream = Reference.values(gradient)
        geluErfBackward(preActivation: z, gradient: gradient)
        let expected = zip(Reference.values(z), upstream).map { v, g in
            g * (0.5 * (1 + erf(v / 2.0.squareRoot())) + v * exp(-0.5 * v * v) / (2 * Double.pi).squareRoot())
        }
        // Absolute error (the derivative is within [−0.17, 1.13]): in the far
        // tails Φ(z) = ½(1 + erf) cancels in float32, as in the forward pass.
        expectClose(gradient.scalars, expected, tolerance: 1e-6, absoluteFloor: 1, "geluErfBackward")
    }

    @Test func dropoutIsSeededInvertedAndRecordsItsMask() {
        let x = Tensor(repeating: 2, shape: [100, 101])
        let mask = Tensor(zeros: [100, 101])
        var generator = SeededGenerator(seed: 9)
        dropoutInPlace(x, probability: 0.25, mask: mask, generator: &generator)
        let values = x.scalars, factors = mask.scalars
        let dropped = factors.filter { $0 == 0 }.count
        // 10,100 draws at p = 0.25: the standard deviation of the count is ~44.
        #expect(abs(dropped - 2525) < 250)
        #expect(factors.allSatisfy { $0 == 0 || $0 == Float(1 / 0.75) })
        #expect(zip(values, factors).allSatisfy { $0 == 2 * $1 })

        let again = Tensor(repeating: 2, shape: [100, 101]), secondMask = Tensor(zeros: [100, 101])
        var same = SeededGenerator(seed: 9)
        dropoutInPlace(again, probability: 0.25, mask: secondMask, generator: &same)
        #expect(secondMask.scalars == factors)
    }

    @Test func adamUpdateMatchesItsFormula() {
        let parameter = tensor([40], seed: 6), gradient = tensor([40], seed: 7)
        let m = tensor([40], seed: 8, range: -0.1...0.1), v = tensor([40], seed: 9, range: 0...0.01)
        let (p0, g0, m0, v0) = (Reference.values(parameter), Reference.values(gradient), Reference.values(m), Reference.values(v))
        // Step 3 of AdamW with lr 0.01, λ 0.1.
        let lr = 0.01, decay = 0.1, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8
        let stepSize = lr / (1 - pow(beta1, 3)), root = (1 - pow(beta2, 3)).squareRoot()
        ParameterUpdate.adam(parameter, gradient: gradient, firstMoment: m, secondMoment: v, step: .init(
            firstMomentWeight: Float(1 - beta1), beta2: Float(beta2), secondMomentWeight: Float(1 - beta2), epsilon: Float(epsilon),
            stepSize: Float(stepSize), biasCorrection2Root: Float(root), coupledWeightDecay: 0, decoupledDecayFactor: Float(1 - lr * decay)))
        let expected = (0..<40).map { i -> Double in
            let decayed = p0[i] * (1 - lr * decay)
            let first = beta1 * m0[i] + (1 - beta1) * g0[i]
            let second = beta2 * v0[i] + (1 - beta2) * g0[i] * g0[i]
            return decayed - stepSize * first / (second.squareRoot() / root + epsilon)
        }
        expectClose(parameter.scalars, expected, tolerance: 1e-6, absoluteFloor: 1e-2, "adam")
    }
}
