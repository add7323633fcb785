import QuernTensor
import Testing

/// The NCHW pools and BatchNorm folding against the double-precision
/// reference (ConvolutionReference.swift); the convolution kernels
/// themselves are checked in ConvolutionNHWCTests.
@Suite struct ConvolutionTests {
    @Test func poolingMatchesDoubleReference() {
        let x = tensor([2, 3, 9, 8], seed: 4)
        let xs = Reference.values(x)
        for window in [Window2D(kernel: 3, stride: 2, padding: 1), Window2D(kernel: (3, 3), stride: (2, 2), padding: (0, 0, 1, 1)),
                       Window2D(kernel: 2, stride: 2), Window2D(kernel: (2, 3), stride: (1, 2), padding: (1, 0, 0, 1))] {
            expectClose(maxPool2d(x, window: window).scalars, ConvReference.pool(xs, x.shape, window, max: true, includePad: false), "max \(window)")
            for includePad in [true, false] {
                expectClose(avgPool2d(x, window: window, countIncludePad: includePad).scalars,
                            ConvReference.pool(xs, x.shape, window, max: false, includePad: includePad), "avg \(window) \(includePad)")
            }
        }
        let global = globalAveragePool(x)
        #expect(global.shape == [2, 3])
        expectClose(global.scalars, (0..<6).map { p in xs[p * 72..<(p + 1) * 72].reduce(0, +) / 72 })
    }

    @Test func batchNormFoldsIntoTheConvolution() {
        let x = tensor([1, 3, 6, 6], seed: 5), w = tensor([4, 3, 3, 3], seed: 6), b = tensor([4], seed: 7)
        let gamma = tensor([4], seed: 8, range: 0.5...1.5), beta = tensor([4], seed: 9)
        let mean = tensor([4], seed: 10), variance = tensor([4], seed: 11, range: 0.1...2)
        let window = Window2D(kernel: 3, padding: 1)
        let conv = ConvReference.conv(Reference.values(x), x.shape, Reference.values(w), w.shape, Reference.values(b), window).values
        let (g, bt, m, v) = (Reference.values(gamma), Reference.values(beta), Reference.values(mean), Reference.values(variance))
        let expected = conv.enumerated().map { i, value -> Double in
            let c = (i / 36) % 4
            return (value - m[c]) / (v[c] + 1e-5).squareRoot() * g[c] + bt[c]
        }
        let folded = foldBatchNorm(convWeight: w, convBias: b, gamma: gamma, beta: beta, mean: mean, variance: variance, epsilon: 1e-5)
        // Through the kernel ResNet runs for this window (Winograd), NHWC.
        let convolution = PreparedConvolution(weight: folded.weight, bias: folded.bias, window: window)
        let y = ConvolutionNHWCTests.nchw(convolution(ConvolutionNHWCTests.nhwc(x), relu: false))
        expectClose(y.scalars, expected, tolerance: 2e-5, absoluteFloor: 0.1)
    }
}
