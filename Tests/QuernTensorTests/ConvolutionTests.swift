import QuernTensor
import Testing

/// Naive double-precision convolution and pooling.
enum ConvReference {
    static func conv(_ x: [Double], _ xs: [Int], _ w: [Double], _ ws: [Int], _ bias: [Double]?, _ window: Window2D, groups: Int)
        -> (values: [Double], scale: [Double], shape: [Int])
    {
        let (n, c, h, wd) = (xs[0], xs[1], xs[2], xs[3]), o = ws[0], cg = c / groups, og = o / groups
        let (oh, ow) = window.outputSize(height: h, width: wd)
        var out = [Double](repeating: 0, count: n * o * oh * ow), scale = out
        for img in 0..<n { for oc in 0..<o { for y in 0..<oh { for xo in 0..<ow {
            let g = oc / og
            var total = bias?[oc] ?? 0, magnitude = abs(bias?[oc] ?? 0)
            for ic in 0..<cg { for i in 0..<ws[2] { for j in 0..<ws[3] {
                let sy = y * window.stride.height - window.padding.top + i * window.dilation.height
                let sx = xo * window.stride.width - window.padding.left + j * window.dilation.width
                if sy < 0 || sy >= h || sx < 0 || sx >= wd { continue }
                let product = x[((img * c + g * cg + ic) * h + sy) * wd + sx] * w[((oc * cg + ic) * ws[2] + i) * ws[3] + j]
                total += product
                magnitude += abs(product)
            } } }
            let index = ((img * o + oc) * oh + y) * ow + xo
            out[index] = total
            scale[index] = magnitude
        } } } }
        return (out, scale, [n, o, oh, ow])
    }

    static func pool(_ x: [Double], _ xs: [Int], _ window: Window2D, max useMax: Bool, includePad: Bool) -> [Double] {
        let (n, c, h, w) = (xs[0], xs[1], xs[2], xs[3])
        let (oh, ow) = window.outputSize(height: h, width: w)
        var out: [Double] = []
        for p in 0..<(n * c) { for y in 0..<oh { for xo in 0..<ow {
            var best = -Double.infinity, total = 0.0, taps = 0
            for i in 0..<window.kernel.height { for j in 0..<window.kernel.width {
                let sy = y * window.stride.height - window.padding.top + i, sx = xo * window.stride.width - window.padding.left + j
                if sy < 0 || sy >= h || sx < 0 || sx >= w { continue }
                let v = x[(p * h + sy) * w + sx]
                best = max(best, v)
                total += v
                taps += 1
            } }
            out.append(useMax ? best : total / Double(includePad ? window.kernel.height * window.kernel.width : taps))
        } } }
        return out
    }
}

@Suite struct ConvolutionTests {
    struct Case: CustomStringConvertible, Sendable {
        var input: [Int], out: Int, kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int, Int, Int), dilation: (Int, Int), groups: Int, bias: Bool
        var description: String { "in \(input) out \(out) k \(kernel) s \(stride) p \(padding) d \(dilation) g \(groups)" }
    }

    static let cases: [Case] = [
        Case(input: [1, 3, 9, 7], out: 4, kernel: (3, 3), stride: (1, 1), padding: (1, 1, 1, 1), dilation: (1, 1), groups: 1, bias: true),
        Case(input: [2, 4, 11, 10], out: 6, kernel: (3, 3), stride: (2, 2), padding: (1, 1, 1, 1), dilation: (1, 1), groups: 2, bias: false),
        Case(input: [1, 3, 15, 13], out: 5, kernel: (7, 7), stride: (2, 2), padding: (3, 3, 3, 3), dilation: (1, 1), groups: 1, bias: true),
        Case(input: [1, 8, 6, 6], out: 8, kernel: (1, 1), stride: (1, 1), padding: (0, 0, 0, 0), dilation: (1, 1), groups: 1, bias: true),
        Case(input: [1, 8, 7, 6], out: 16, kernel: (1, 1), stride: (2, 2), padding: (0, 0, 0, 0), dilation: (1, 1), groups: 1, bias: false),
        Case(input: [1, 2, 9, 9], out: 2, kernel: (3, 2), stride: (1, 2), padding: (0, 2, 1, 0), dilation: (2, 1), groups: 1, bias: true),
        Case(input: [1, 6, 5, 5], out: 6, kernel: (3, 3), stride: (1, 1), padding: (1, 1, 1, 1), dilation: (1, 1), groups: 6, bias: true),
        Case(input: [1, 1, 1, 1], out: 1, kernel: (1, 1), stride: (1, 1), padding: (0, 0, 0, 0), dilation: (1, 1), groups: 1, bias: true),
        Case(input: [3, 16, 40, 40], out: 24, kernel: (3, 3), stride: (1, 1), padding: (1, 1, 1, 1), dilation: (1, 1), groups: 1, bias: true),
        Case(input: [1, 64, 9, 9], out: 32, kernel: (3, 3), stride: (1, 1), padding: (1, 1, 1, 1), dilation: (1, 1), groups: 1, bias: false),
    ]

    @Test(arguments: cases)
    func convolutionMatchesDoubleReference(c: Case) {
        let window = Window2D(kernel: c.kernel, stride: c.stride, padding: c.padding, dilation: c.dilation)
        let x = tensor(c.input, seed: 1)
        let w = tensor([c.out, c.input[1] / c.groups, c.kernel.0, c.kernel.1], seed: 2)
        let b = c.bias ? tensor([c.out], seed: 3) : nil
        let y = conv2d(x, weight: w, bias: b, window: window, groups: c.groups)
        let ref = ConvReference.conv(Reference.values(x), c.input, Reference.values(w), w.shape, b.map(Reference.values), window, groups: c.groups)
        #expect(y.shape == ref.shape)
        expectClose(y.scalars, ref.values, scale: ref.scale, "\(c)")
    }

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
        let conv = Reference.values(conv2d(x, weight: w, bias: b, window: window))
        let (g, bt, m, v) = (Reference.values(gamma), Reference.values(beta), Reference.values(mean), Reference.values(variance))
        let expected = conv.enumerated().map { i, value -> Double in
            let c = (i / 36) % 4
            return (value - m[c]) / (v[c] + 1e-5).squareRoot() * g[c] + bt[c]
        }
        let folded = foldBatchNorm(convWeight: w, convBias: b, gamma: gamma, beta: beta, mean: mean, variance: variance, epsilon: 1e-5)
        expectClose(conv2d(x, weight: folded.weight, bias: folded.bias, window: window).scalars, expected, tolerance: 2e-5, absoluteFloor: 0.1)
    }
}
