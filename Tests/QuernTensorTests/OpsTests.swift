import QuernTensor
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite struct OpsTests {
    static let widths = [1, 7, 16, 33, 384]

    @Test(arguments: widths)
    func layerNormAndRMSNorm(width: Int) {
        let x = tensor([5, width], seed: 1, range: -3...5), gamma = tensor([width], seed: 2), beta = tensor([width], seed: 3)
        let xs = Reference.values(x), g = Reference.values(gamma), b = Reference.values(beta)
        var expectedLN: [Double] = [], expectedRMS: [Double] = []
        for r in 0..<5 {
            let row = Array(xs[r * width..<(r + 1) * width])
            let mean = row.reduce(0, +) / Double(width)
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(width)
            expectedLN += row.enumerated().map { ($0.element - mean) / (variance + 1e-5).squareRoot() * g[$0.offset] + b[$0.offset] }
            let rms = (row.map { $0 * $0 }.reduce(0, +) / Double(width) + 1e-6).squareRoot()
            expectedRMS += row.enumerated().map { $0.element / rms * g[$0.offset] }
        }
        expectClose(layerNorm(x, gamma: gamma, beta: beta, epsilon: 1e-5).scalars, expectedLN, absoluteFloor: 0.1, "layerNorm")
        expectClose(rmsNorm(x, gamma: gamma, epsilon: 1e-6).scalars, expectedRMS, absoluteFloor: 0.1, "rmsNorm")
    }

    @Test(arguments: widths)
    func softmaxIsStableAndNormalised(width: Int) {
        let x = tensor([4, width], seed: 4, range: -30...30)
        x[flat: 0] = 1e30  // huge values must not overflow
        let xs = Reference.values(x)
        var expected: [Double] = [], expectedLog: [Double] = []
        for r in 0..<4 {
            let row = Array(xs[r * width..<(r + 1) * width])
            let peak = row.max()!
            let total = row.map { Foundation_exp($0 - peak) }.reduce(0, +)
            expected += row.map { Foundation_exp($0 - peak) / total }
            expectedLog += row.map { $0 - peak - Foundation_log(total) }
        }
        expectClose(softmax(x).scalars, expected, absoluteFloor: 1e-7, "softmax")
        expectClose(logSoftmax(x).scalars, expectedLog, absoluteFloor: 1, "logSoftmax")
    }

    @Test func softmaxOfMaskedRows() {
        let x = try! Tensor(shape: [2, 3], values: [-.infinity, -.infinity, -.infinity, 0, -.infinity, 0])
        #expect(softmax(x).scalars == [0, 0, 0, 0.5, 0, 0.5])
    }

    /// Relative error 1e-5 where |y| ≥ 0.2; below, absolute error 2e-6 (the
    /// float erf/exp approximations are good to a few ulps of 1).
    @Test func activationsMatchDoubleReference() {
        let x = tensor([4099], seed: 5, range: -12...12)
        let xs = Reference.values(x)
        expectClose(geluErf(x).scalars, xs.map { 0.5 * $0 * (1 + Foundation_erf($0 / 2.0.squareRoot())) }, absoluteFloor: 0.2, "geluErf")
        expectClose(geluTanh(x).scalars, xs.map { 0.5 * $0 * (1 + Foundation_tanh((2 / Double.pi).squareRoot() * ($0 + 0.044715 * $0 * $0 * $0))) },
                    absoluteFloor: 0.2, "geluTanh")
        expectClose(silu(x).scalars, xs.map { $0 / (1 + Foundation_exp(-$0)) }, absoluteFloor: 0.2, "silu")
        expectClose(relu(x).scalars, xs.map { max($0, 0) }, "relu")
        expectClose(tanh(x).scalars, xs.map(Foundation_tanh), absoluteFloor: 0.2, "tanh")
        let small = tensor([1000], seed: 6, range: -0.1...0.1)
        expectClose(tanh(small).scalars, Reference.values(small).map(Foundation_tanh), "tanh small")
        let up = tensor([4099], seed: 7)
        let both = siluMultiply(x, up)
        expectClose(both.scalars, zip(xs, Reference.values(up)).map { $0 / (1 + Foundation_exp(-$0)) * $1 }, absoluteFloor: 0.2, "siluMultiply")
    }

    @Test func elementwiseAndBroadcast() {
        let a = tensor([3, 37], seed: 8), b = tensor([3, 37], seed: 9), row = tensor([37], seed: 10)
        let av = Reference.values(a), bv = Reference.values(b), rv = Reference.values(row)
        expectClose(add(a, b).scalars, zip(av, bv).map(+))
        expectClose(subtract(a, b).scalars, zip(av, bv).map(-))
        expectClose(multiply(a, b).scalars, zip(av, bv).map(*))
        expectClose(add(a, row).scalars, av.enumerated().map { $0.element + rv[$0.offset % 37] })
        expectClose(scale(a, by: -2.5).scalars, av.map { $0 * -2.5 })
        let c = a.copy()
        c.addInPlace(row)
        c.multiplyInPlace(b)
        c.scaleInPlace(by: 0.5)
        expectClose(c.scalars, av.enumerated().map { ($0.element + rv[$0.offset % 37]) * bv[$0.offset] * 0.5 })
    }

    @Test func transposePermuteConcatenate() throws {
        let a = tensor([2, 35, 33], seed: 11)
        let t = transposeLastTwo(a)
        #expect(t.shape == [2, 33, 35])
        let av = a.scalars
        #expect(t[flat: (1 * 33 + 5) * 35 + 7] == av[(1 * 35 + 7) * 33 + 5])
        let p = permute(a, [2, 0, 1])
        #expect(p.shape == [33, 2, 35])
        #expect(p[flat: (4 * 2 + 1) * 35 + 9] == av[(1 * 35 + 9) * 33 + 4])
        let joined = concatenateLast([try Tensor(shape: [2, 1], values: [1, 2]), try Tensor(shape: [2, 2], values: [3, 4, 5, 6])])
        #expect(joined.scalars == [1, 3, 4, 2, 5, 6])
    }
}

func Foundation_exp(_ x: Double) -> Double { Glibc.exp(x) }
func Foundation_log(_ x: Double) -> Double { Glibc.log(x) }
func Foundation_erf(_ x: Double) -> Double { Glibc.erf(x) }
func Foundation_tanh(_ x: Double) -> Double { Glibc.tanh(x) }

@Suite struct EmptyDimensionTests {
    @Test func everyOpAcceptsEmptyDimensions() throws {
        let none = Tensor(zeros: [0, 5])
        #expect(layerNorm(none, gamma: Tensor(repeating: 1, shape: [5]), beta: nil, epsilon: 1e-5).shape == [0, 5])
        #expect(rmsNorm(none, gamma: Tensor(repeating: 1, shape: [5]), epsilon: 1e-5).shape == [0, 5])
        #expect(softmax(none).shape == [0, 5] && geluErf(none).count == 0 && silu(none).count == 0)
        #expect(add(none, none).count == 0 && transposeLastTwo(none).shape == [5, 0])
        #expect(matmul(none, Tensor(zeros: [5, 3])).shape == [0, 3])
        #expect(matmul(Tensor(zeros: [2, 0]), Tensor(zeros: [0, 3])).scalars == [0, 0, 0, 0, 0, 0])
        let images = Tensor(zeros: [0, 3, 8, 8])
        // Winograd (stride 1) and the direct kernel (stride 2), NHWC.
        for (stride, side) in [(1, 8), (2, 4)] {
            let convolution = PreparedConvolution(weight: Tensor(zeros: [4, 3, 3, 3]), bias: nil, window: Window2D(kernel: 3, stride: stride, padding: 1))
            #expect(convolution(Tensor(zeros: [0, 8, 8, 3]), relu: true).shape == [0, side, side, 4])
        }
        #expect(maxPool2d(images, window: Window2D(kernel: 2, stride: 2)).shape == [0, 3, 4, 4])
        #expect(globalAveragePool(images).shape == [0, 3])
        let q = Tensor(zeros: [0, 2, 4]), k = Tensor(zeros: [3, 2, 4])
        #expect(scaledDotProductAttention(query: q, key: k, value: k, causal: false).shape == [0, 2, 4])
        let weights = try WeightMatrix(Tensor(zeros: [0, 32]), as: .q4_1)
        #expect(weights.multiply(Tensor(zeros: [2, 32])).shape == [2, 0])
        #expect(try weights.gatherRows([]).shape == [0, 32])
    }
}
