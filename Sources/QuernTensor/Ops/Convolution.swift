#if canImport(Glibc)
import Glibc
#endif

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

/// 2-D convolution, NCHW: input [N, C, H, W], weight [O, C/groups, kh, kw],
/// bias [O]. Convolution is a GEMM of the weights [O/g, C/g·kh·kw] with the
/// im2col matrix [C/g·kh·kw, OH·OW] of each image and group.
///
/// The im2col matrix is built a tile of output columns at a time, sized to
/// stay in L2 while the GEMM reads it, and tiles run in parallel, each with a
/// single-threaded GEMM. 1×1 stride-1 convolutions need no im2col at all; a
/// map too small to tile is one multi-threaded GEMM.
public func conv2d(_ input: Tensor, weight: Tensor, bias: Tensor?, window: Window2D, groups: Int = 1) -> Tensor {
    precondition(input.rank == 4 && weight.rank == 4, "conv2d takes NCHW input and OIHW weight, got \(input.shape) and \(weight.shape)")
    let n = input.shape[0], c = input.shape[1], h = input.shape[2], w = input.shape[3]
    let o = weight.shape[0]
    precondition(groups >= 1 && c % groups == 0 && o % groups == 0, "conv2d: \(c) input and \(o) output channels do not split into \(groups) groups")
    let cg = c / groups, og = o / groups
    precondition(weight.shape[1] == cg && weight.shape[2] == window.kernel.height && weight.shape[3] == window.kernel.width,
                 "conv2d: weight \(weight.shape) does not match \(cg) channels per group and kernel \(window.kernel)")
    precondition(bias == nil || bias!.count == o, "conv2d: bias needs \(o) values")
    let (oh, ow) = window.outputSize(height: h, width: w)
    let output = Tensor(zeros: [n, o, oh, ow])
    let plane = oh * ow
    if output.count == 0 { return output }
    let patch = cg * window.kernel.height * window.kernel.width
    if let bias {
        output.withMutablePointer { out in
            bias.withPointer { b in
                for image in 0..<n {
                    for channel in 0..<o { (out + (image * o + channel) * plane).update(repeating: b[channel], count: plane) }
                }
            }
        }
    }
    let beta: Float = bias == nil ? 0 : 1
    let weightView = { (group: Int) in MatrixView(weight, offset: group * og * patch, rows: og, columns: patch) }

    if window.isPointwise {
        for image in 0..<n {
            for group in 0..<groups {
                GEMM.run(weightView(group), MatrixView(input, offset: (image * c + group * cg) * h * w, rows: cg, columns: h * w),
                         into: MatrixView(output, offset: (image * o + group * og) * plane, rows: og, columns: plane), beta: beta)
            }
        }
        return output
    }

    // ~512 KiB of im2col per tile, a whole number of 16-column strips, but
    // never so narrow that the GEMM runs short of columns.
    let tileColumns = min(plane, max(128, ((1 << 17) / max(patch, 1)) / 16 * 16))
    let tilesPerPlane = (plane + tileColumns - 1) / tileColumns
    let jobs = n * groups * tilesPerPlane
    if tilesPerPlane == 1 && jobs < 2 * ComputeThreads.count {
        // Small maps (ResNet's last stages): one im2col, one threaded GEMM.
        let columns = Tensor(zeros: [patch, plane])
        for image in 0..<n {
            for group in 0..<groups {
                im2col(input, offset: (image * c + group * cg) * h * w, channels: cg, height: h, width: w,
                       window: window, columns: 0..<plane, into: columns, parallel: true)
                GEMM.run(weightView(group), MatrixView(columns),
                         into: MatrixView(output, offset: (image * o + group * og) * plane, rows: og, columns: plane), beta: beta)
            }
        }
        return output
    }
    let scratch = ScratchBuffers(count: ComputeThreads.count * 4 + 1, floats: patch * tileColumns)
    parallelFor(jobs, grain: 1) { range in
        let buffer = scratch.take()
        defer { scratch.give(buffer) }
        for job in range {
            let tile = job % tilesPerPlane, group = (job / tilesPerPlane) % groups, image = job / (tilesPerPlane * groups)
            let start = tile * tileColumns, width = min(tileColumns, plane - start)
            im2col(input, offset: (image * c + group * cg) * h * w, channels: cg, height: h, width: w,
                   window: window, columns: start..<start + width, into: buffer, parallel: false)
            GEMM.run(weightView(group), MatrixView(buffer, rows: patch, columns: width),
                     into: MatrixView(output, offset: (image * o + group * og) * plane + start, rows: og, columns: width, rowStride: plane),
                     beta: beta)
        }
    }
    return output
}

/// A small free list of scratch tensors for parallel jobs.
final class ScratchBuffers: @unchecked Sendable {
    private var free: [Tensor]
    private var lock = pthread_mutex_t()

    init(count: Int, floats: Int) {
        free = []
        pthread_mutex_init(&lock, nil)
        self.floats = floats
    }

    private let floats: Int

    func take() -> Tensor {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        return free.popLast() ?? Tensor(zeros: [floats])
    }

    func give(_ tensor: Tensor) {
        pthread_mutex_lock(&lock)
        free.append(tensor)
        pthread_mutex_unlock(&lock)
    }

    deinit { pthread_mutex_destroy(&lock) }
}

/// Unfolds `channels` planes of `input` (starting at `offset`) into an
/// im2col matrix [channels·kh·kw, columns.count] for output positions
/// `columns` (row-major over the output map): row (c, i, j) holds the input
/// value each of those positions sees at kernel tap (i, j), zero where the
/// tap falls in padding.
func im2col(_ input: Tensor, offset: Int, channels: Int, height: Int, width: Int, window: Window2D,
            columns: Range<Int>, into matrix: Tensor, parallel: Bool) {
    let (_, ow) = window.outputSize(height: height, width: width)
    let kh = window.kernel.height, kw = window.kernel.width
    let sh = window.stride.height, sw = window.stride.width
    let dh = window.dilation.height, dw = window.dilation.width
    let top = window.padding.top, left = window.padding.left
    let span = columns.count
    precondition(matrix.count >= channels * kh * kw * span, "im2col: scratch too small")
    input.withPointer { src in
        matrix.withMutablePointer { dst in
            let fill = { (rows: Range<Int>) in
                for row in rows {
                    let channel = row / (kh * kw), i = (row / kw) % kh, j = row % kw
                    let plane = src + offset + channel * height * width
                    var out = dst + row * span
                    var position = columns.lowerBound
                    while position < columns.upperBound {
                        // One run along an output row at a time.
                        let y = position / ow, x0 = position % ow
                        let run = min(ow - x0, columns.upperBound - position)
                        let sourceY = y * sh - top + i * dh
                        if sourceY < 0 || sourceY >= height {
                            out.update(repeating: 0, count: run)
                        } else {
                            let sourceRow = plane + sourceY * width
                            let firstX = x0 * sw - left + j * dw
                            if sw == 1 {
                                let start = min(run, max(0, -firstX)), end = max(start, min(run, width - firstX))
                                if start > 0 { out.update(repeating: 0, count: start) }
                                if end > start { (out + start).update(from: sourceRow + firstX + start, count: end - start) }
                                if end < run { (out + end).update(repeating: 0, count: run - end) }
                            } else {
                                for x in 0..<run {
                                    let sourceX = firstX + x * sw
                                    out[x] = sourceX >= 0 && sourceX < width ? sourceRow[sourceX] : 0
                                }
                            }
                        }
                        out += run
                        position += run
                    }
                }
            }
            if parallel { parallelFor(channels * kh * kw, grain: 4, fill) } else { fill(0..<channels * kh * kw) }
        }
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
