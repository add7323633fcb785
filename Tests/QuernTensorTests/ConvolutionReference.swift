import QuernTensor

/// Naive double-precision convolution and pooling over NCHW, written
/// straight from the definition: the independent reference the NHWC direct
/// and Winograd kernels and the pools are checked against.
enum ConvReference {
    /// One convolution to check: input [N, C, H, W], `out` channels and the window.
    struct Case: CustomStringConvertible, Sendable {
        var input: [Int], out: Int, kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int, Int, Int), dilation: (Int, Int), bias: Bool
        var description: String { "in \(input) out \(out) k \(kernel) s \(stride) p \(padding) d \(dilation)" }
        var window: Window2D { Window2D(kernel: kernel, stride: stride, padding: padding, dilation: dilation) }
    }

    /// Windows of every kind ResNet has and the edges around them: padding,
    /// strides, 7×7 and 1×1, asymmetric kernels, padding and dilation, a
    /// 1×1 image, batches.
    static let cases: [Case] = [
        Case(input: [1, 3, 9, 7], out: 4, kernel: (3, 3), stride: (1, 1), padding: (1, 1, 1, 1), dilation: (1, 1), bias: true),
        Case(input: [2, 4, 11, 10], out: 6, kernel: (3, 3), stride: (2, 2), padding: (1, 1, 1, 1), dilation: (1, 1), bias: false),
        Case(input: [1, 3, 15, 13], out: 5, kernel: (7, 7), stride: (2, 2), padding: (3, 3, 3, 3), dilation: (1, 1), bias: true),
        Case(input: [1, 8, 6, 6], out: 8, kernel: (1, 1), stride: (1, 1), padding: (0, 0, 0, 0), dilation: (1, 1), bias: true),
        Case(input: [1, 8, 7, 6], out: 16, kernel: (1, 1), stride: (2, 2), padding: (0, 0, 0, 0), dilation: (1, 1), bias: false),
        Case(input: [1, 2, 9, 9], out: 2, kernel: (3, 2), stride: (1, 2), padding: (0, 2, 1, 0), dilation: (2, 1), bias: true),
        Case(input: [1, 1, 1, 1], out: 1, kernel: (1, 1), stride: (1, 1), padding: (0, 0, 0, 0), dilation: (1, 1), bias: true),
        Case(input: [3, 16, 40, 40], out: 24, kernel: (3, 3), stride: (1, 1), padding: (1, 1, 1, 1), dilation: (1, 1), bias: true),
        Case(input: [1, 64, 9, 9], out: 32, kernel: (3, 3), stride: (1, 1), padding: (1, 1, 1, 1), dilation: (1, 1), bias: false),
    ]

    /// Input `x` of shape `xs` [N, C, H, W], weight `w` of shape `ws`
    /// [O, C, kh, kw]. Also returns, per output, the sum of the products'
    /// magnitudes: the scale float32 rounding errors are relative to.
    static func conv(_ x: [Double], _ xs: [Int], _ w: [Double], _ ws: [Int], _ bias: [Double]?, _ window: Window2D)
        -> (values: [Double], scale: [Double], shape: [Int])
    {
        let (n, c, h, wd) = (xs[0], xs[1], xs[2], xs[3]), o = ws[0]
        let (oh, ow) = window.outputSize(height: h, width: wd)
        var out = [Double](repeating: 0, count: n * o * oh * ow), scale = out
        for img in 0..<n { for oc in 0..<o { for y in 0..<oh { for xo in 0..<ow {
            var total = bias?[oc] ?? 0, magnitude = abs(bias?[oc] ?? 0)
            for ic in 0..<c { for i in 0..<ws[2] { for j in 0..<ws[3] {
                let sy = y * window.stride.height - window.padding.top + i * window.dilation.height
                let sx = xo * window.stride.width - window.padding.left + j * window.dilation.width
                if sy < 0 || sy >= h || sx < 0 || sx >= wd { continue }
                let product = x[((img * c + ic) * h + sy) * wd + sx] * w[((oc * c + ic) * ws[2] + i) * ws[3] + j]
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
