/// Spatial hyper-parameters of a 2-D convolution or pooling window.
/// Padding is [top, left, bottom, right] so that ONNX's asymmetric pads
/// (e.g. a max-pool padded only at the bottom/right) are expressible.
public struct Window2D: Sendable, Equatable {
    public var kernel: (height: Int, width: Int)
    public var stride: (height: Int, width: Int)
    public var padding: (top: Int, left: Int, bottom: Int, right: Int)
    public var dilation: (height: Int, width: Int)

    public init(kernel: (Int, Int), stride: (Int, Int) = (1, 1), padding: (Int, Int, Int, Int) = (0, 0, 0, 0), dilation: (Int, Int) = (1, 1)) {
        self.kernel = (kernel.0, kernel.1)
        self.stride = (stride.0, stride.1)
        self.padding = (padding.0, padding.1, padding.2, padding.3)
        self.dilation = (dilation.0, dilation.1)
    }

    /// Square kernel, stride and symmetric padding.
    public init(kernel: Int, stride: Int = 1, padding: Int = 0, dilation: Int = 1) {
        self.init(kernel: (kernel, kernel), stride: (stride, stride), padding: (padding, padding, padding, padding), dilation: (dilation, dilation))
    }

    public static func == (a: Window2D, b: Window2D) -> Bool {
        a.kernel == b.kernel && a.stride == b.stride && a.dilation == b.dilation
            && a.padding.top == b.padding.top && a.padding.left == b.padding.left
            && a.padding.bottom == b.padding.bottom && a.padding.right == b.padding.right
    }

    /// Output size for an input of `height` × `width`: floor((in + pads − dilation·(k−1) − 1) / stride) + 1.
    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        let h = (height + padding.top + padding.bottom - dilation.height * (kernel.height - 1) - 1) / stride.height + 1
        let w = (width + padding.left + padding.right - dilation.width * (kernel.width - 1) - 1) / stride.width + 1
        return (max(0, h), max(0, w))
    }

    var isPointwise: Bool {
        kernel == (1, 1) && stride == (1, 1) && padding == (0, 0, 0, 0)
    }
}

/// Max pooling over NCHW; padded positions never win (they count as −inf).
public func maxPool2d(_ input: Tensor, window: Window2D) -> Tensor {
    pool2d(input, window: window, initial: -.infinity, combine: { max($0, $1) }, finish: { value, _ in value })
}

/// Average pooling over NCHW. `countIncludePad` divides by the full window
/// (PyTorch's default) instead of the taps inside the image (ONNX's default).
public func avgPool2d(_ input: Tensor, window: Window2D, countIncludePad: Bool) -> Tensor {
    let full = Float(window.kernel.height * window.kernel.width)
    return pool2d(input, window: window, initial: 0, combine: { $0 + $1 },
                  finish: { sum, taps in sum / (countIncludePad ? full : Float(max(taps, 1))) })
}

/// Mean over H and W: [N, C, H, W] → [N, C].
public func globalAveragePool(_ input: Tensor) -> Tensor {
    precondition(input.rank == 4, "globalAveragePool takes NCHW input, got \(input.shape)")
    let n = input.shape[0], c = input.shape[1], plane = input.shape[2] * input.shape[3]
    let output = Tensor(zeros: [n, c])
    if plane == 0 { return output }
    input.withPointer { src in
        output.withMutablePointer { dst in
            for i in 0..<(n * c) { dst[i] = rowSum(src + i * plane, plane) / Float(plane) }
        }
    }
    return output
}

private func pool2d(
    _ input: Tensor, window: Window2D, initial: Float, combine: (Float, Float) -> Float, finish: (Float, Int) -> Float
) -> Tensor {
    precondition(input.rank == 4, "pooling takes NCHW input, got \(input.shape)")
    let n = input.shape[0], c = input.shape[1], h = input.shape[2], w = input.shape[3]
    let (oh, ow) = window.outputSize(height: h, width: w)
    let output = Tensor(zeros: [n, c, oh, ow])
    if output.count == 0 || h == 0 || w == 0 { return output }
    input.withPointer { src in
        output.withMutablePointer { dst in
            parallelFor(n * c, grain: 1) { planes in
                for p in planes {
                    let plane = src + p * h * w, out = dst + p * oh * ow
                    for y in 0..<oh {
                        for x in 0..<ow {
                            var value = initial
                            var taps = 0
                            for i in 0..<window.kernel.height {
                                let sy = y * window.stride.height - window.padding.top + i * window.dilation.height
                                if sy < 0 || sy >= h { continue }
                                for j in 0..<window.kernel.width {
                                    let sx = x * window.stride.width - window.padding.left + j * window.dilation.width
                                    if sx < 0 || sx >= w { continue }
                                    value = combine(value, plane[sy * w + sx])
                                    taps += 1
                                }
                            }
                            out[y * ow + x] = finish(value, taps)
                        }
                    }
                }
            }
        }
    }
    return output
}
