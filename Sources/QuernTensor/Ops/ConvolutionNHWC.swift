import CQuernKernels

/// A 2-D convolution's weights packed once for `conv2dNHWC`: panels of 32
/// output channels, each [kh·kw·C][32] (tap-major, then input channel),
/// zero-padded past the last channel, and the bias padded the same way.
public struct PackedConvolution: @unchecked Sendable {
    public let window: Window2D
    public let inputChannels: Int
    public let outputChannels: Int
    let packed: Tensor
    let bias: Tensor

    static let panel = Int(QUERN_CONV_PANEL)
    var panels: Int { (outputChannels + Self.panel - 1) / Self.panel }
    var taps: Int { window.kernel.height * window.kernel.width }

    /// `weight` [O, C, kh, kw] (PyTorch/ONNX order), `bias` [O] or nil.
    public init(weight: Tensor, bias: Tensor?, window: Window2D) {
        precondition(weight.rank == 4 && weight.shape[2] == window.kernel.height && weight.shape[3] == window.kernel.width,
                     "PackedConvolution: weight \(weight.shape) does not match kernel \(window.kernel)")
        let o = weight.shape[0], c = weight.shape[1], kh = weight.shape[2], kw = weight.shape[3]
        precondition(bias == nil || bias!.count == o, "PackedConvolution: bias needs \(o) values")
        self.window = window
        inputChannels = c
        outputChannels = o
        let panelWidth = Self.panel
        let panels = (o + panelWidth - 1) / panelWidth
        let k = kh * kw * c
        packed = Tensor(zeros: [panels * k * panelWidth])
        self.bias = Tensor(zeros: [panels * panelWidth])
        packed.withMutablePointer { dst in
            weight.withPointer { src in
                for out in 0..<o {
                    let panel = out / panelWidth, column = out % panelWidth
                    for channel in 0..<c {
                        for i in 0..<kh {
                            for j in 0..<kw {
                                let row = (i * kw + j) * c + channel
                                dst[(panel * k + row) * panelWidth + column] = src[((out * c + channel) * kh + i) * kw + j]
                            }
                        }
                    }
                }
            }
        }
        if let bias { for i in 0..<o { self.bias[flat: i] = bias[flat: i] } }
    }
}

/// Convolution over NHWC tensors: input [N, H, W, C] → [N, OH, OW, O], with
/// the bias, an optional residual [N, OH, OW, O] added and an optional ReLU
/// applied in the same pass (a ResNet block's last convolution does all
/// three). Runs the register-tiled kernel of CQuernKernels/conv_nhwc.c over
/// an indirection table, spread over the compute threads.
public func conv2dNHWC(_ input: Tensor, _ conv: PackedConvolution, residual: Tensor? = nil, relu: Bool) -> Tensor {
    precondition(input.rank == 4 && input.shape[3] == conv.inputChannels,
                 "conv2dNHWC takes [N, H, W, \(conv.inputChannels)], got \(input.shape)")
    let n = input.shape[0], h = input.shape[1], w = input.shape[2], c = conv.inputChannels
    let window = conv.window
    let (oh, ow) = window.outputSize(height: h, width: w)
    let output = Tensor(zeros: [n, oh, ow, conv.outputChannels])
    precondition(residual == nil || residual!.shape == output.shape, "conv2dNHWC: residual \(residual!.shape) does not match \(output.shape)")
    let pixels = n * oh * ow
    if pixels == 0 || conv.outputChannels == 0 { return output }
    let taps = conv.taps
    // Few channels per tap (a stem on RGB): tiles gather their im2col rows
    // from the input directly; otherwise an indirection table of row pointers.
    let gathering = taps > 1 && c < 16 && window.dilation == (1, 1)
    let table = UnsafeMutablePointer<UnsafePointer<Float>?>.allocate(capacity: gathering ? 1 : pixels * taps)
    defer { table.deallocate() }
    let zeros = Tensor(zeros: [max(c, 1)])
    let tile = Int(QUERN_CONV_TILE_PIXELS)
    let panels = conv.panels
    let threads = ComputeThreads.count
    // Pixel chunks of whole tiles; when a map is too small to give every
    // thread several chunks, the output channels are split as well.
    let tiles = (pixels + tile - 1) / tile
    let pixelChunks = max(1, min(tiles, (tiles + 15) / 16 > threads * 2 ? (tiles + 15) / 16 : threads * 4))
    let tilesPerChunk = (tiles + pixelChunks - 1) / pixelChunks
    let chunks = (tiles + tilesPerChunk - 1) / tilesPerChunk
    let panelGroups = chunks >= threads * 2 ? 1 : min(panels, (threads * 4 + chunks - 1) / chunks)
    let panelsPerGroup = (panels + panelGroups - 1) / panelGroups
    input.withPointer { src in
        zeros.withPointer { zero in
            if !gathering {
                quern_conv_build_indirection(
                    src, Int32(n), Int32(h), Int32(w), Int32(c), Int32(window.kernel.height), Int32(window.kernel.width),
                    Int32(window.stride.height), Int32(window.stride.width), Int32(window.padding.top), Int32(window.padding.left),
                    Int32(window.dilation.height), Int32(window.dilation.width), Int32(oh), Int32(ow), zero, table)
            }
            let geometry = quern_conv_geometry(
                input: src, height: Int32(h), width: Int32(w), kernel_h: Int32(window.kernel.height), kernel_w: Int32(window.kernel.width),
                stride_h: Int32(window.stride.height), stride_w: Int32(window.stride.width), pad_top: Int32(window.padding.top),
                pad_left: Int32(window.padding.left), out_h: Int32(oh), out_w: Int32(ow))
            conv.packed.withPointer { packed in
                conv.bias.withPointer { bias in
                    output.withMutablePointer { out in
                        let run = { (residualPointer: UnsafePointer<Float>?) in
                            var job = quern_conv_job()
                            job.indirection = UnsafePointer(table)
                            job.taps = Int32(taps)
                            job.channels = Int32(c)
                            job.packed = packed
                            job.bias = bias
                            job.residual = residualPointer
                            job.output = out
                            job.out_channels = Int32(conv.outputChannels)
                            job.relu = relu ? 1 : 0
                            job.gather = gathering ? 1 : 0
                            job.geometry = geometry
                            parallelFor(chunks * panelGroups, grain: 1) { range in
                                for item in range {
                                    let chunk = item / panelGroups, group = item % panelGroups
                                    let firstPixel = chunk * tilesPerChunk * tile
                                    let lastPixel = min(pixels, firstPixel + tilesPerChunk * tile)
                                    let firstPanel = group * panelsPerGroup, lastPanel = min(panels, firstPanel + panelsPerGroup)
                                    if firstPanel < lastPanel {
                                        quern_conv_nhwc_run(&job, firstPixel, lastPixel, Int32(firstPanel), Int32(lastPanel))
                                    }
                                }
                            }
                        }
                        if let residual { residual.withPointer { run($0) } } else { run(nil) }
                    }
                }
            }
        }
    }
    return output
}

/// Max pooling over NHWC; padded positions never win.
public func maxPool2dNHWC(_ input: Tensor, window: Window2D) -> Tensor {
    precondition(input.rank == 4, "maxPool2dNHWC takes [N, H, W, C], got \(input.shape)")
    let n = input.shape[0], h = input.shape[1], w = input.shape[2], c = input.shape[3]
    let (oh, ow) = window.outputSize(height: h, width: w)
    let output = Tensor(zeros: [n, oh, ow, c])
    if output.count == 0 { return output }
    input.withPointer { src in
        output.withMutablePointer { dst in
            parallelFor(n * oh, grain: 1) { rows in
                for row in rows {
                    let image = row / oh, y = row % oh
                    for x in 0..<ow {
                        let out = dst + ((image * oh + y) * ow + x) * c
                        out.update(repeating: -.infinity, count: c)
                        for i in 0..<window.kernel.height {
                            let sy = y * window.stride.height - window.padding.top + i * window.dilation.height
                            if sy < 0 || sy >= h { continue }
                            for j in 0..<window.kernel.width {
                                let sx = x * window.stride.width - window.padding.left + j * window.dilation.width
                                if sx < 0 || sx >= w { continue }
                                let tap = src + ((image * h + sy) * w + sx) * c
                                var k = 0
                                while k + 16 <= c {
                                    let v = BlockKernels.load16(tap + k), o = BlockKernels.load16(out + k)
                                    BlockKernels.store16(o.replacing(with: v, where: v .> o), out + k)
                                    k += 16
                                }
                                while k < c { out[k] = max(out[k], tap[k]); k += 1 }
                            }
                        }
                    }
                }
            }
        }
    }
    return output
}

/// The average of one pooling window per image over NHWC → [N, C]: the
/// window placed at the output's only position (0, 0). Divides by the full
/// window when `countIncludePad`, else by the taps inside the map; with the
/// window covering the whole map this is global average pooling.
public func averagePoolSingleWindowNHWC(_ input: Tensor, window: Window2D, countIncludePad: Bool) -> Tensor {
    precondition(input.rank == 4, "averagePoolSingleWindowNHWC takes [N, H, W, C], got \(input.shape)")
    let n = input.shape[0], h = input.shape[1], w = input.shape[2], c = input.shape[3]
    let output = Tensor(zeros: [n, c])
    let rows = (0..<window.kernel.height).map { $0 * window.dilation.height - window.padding.top }.filter { $0 >= 0 && $0 < h }
    let columns = (0..<window.kernel.width).map { $0 * window.dilation.width - window.padding.left }.filter { $0 >= 0 && $0 < w }
    let taps = rows.count * columns.count
    let divisor = Float(countIncludePad ? window.kernel.height * window.kernel.width : max(taps, 1))
    input.withPointer { src in
        output.withMutablePointer { dst in
            for image in 0..<n {
                let out = dst + image * c
                for y in rows {
                    for x in columns {
                        let tap = src + ((image * h + y) * w + x) * c
                        for k in 0..<c { out[k] += tap[k] }
                    }
                }
                for k in 0..<c { out[k] /= divisor }
            }
        }
    }
    return output
}

/// Mean over H and W of NHWC: [N, H, W, C] → [N, C].
public func globalAveragePoolNHWC(_ input: Tensor) -> Tensor {
    precondition(input.rank == 4, "globalAveragePoolNHWC takes [N, H, W, C], got \(input.shape)")
    let window = Window2D(kernel: (input.shape[1], input.shape[2]))
    return averagePoolSingleWindowNHWC(input, window: window, countIncludePad: false)
}

/// [N, C, H, W] → [N, H, W, C] (what `permute(x, [0, 2, 3, 1])` gives), one
/// plane-to-interleaved copy per image and channel instead of the generic
/// index walk.
public func nchwToNHWC(_ input: Tensor) -> Tensor {
    precondition(input.rank == 4, "nchwToNHWC takes [N, C, H, W], got \(input.shape)")
    let n = input.shape[0], c = input.shape[1], plane = input.shape[2] * input.shape[3]
    let output = Tensor(zeros: [n, input.shape[2], input.shape[3], c])
    if output.count == 0 { return output }
    input.withPointer { src in
        output.withMutablePointer { dst in
            parallelFor(n * c, grain: 1) { planes in
                for index in planes {
                    let image = index / c, channel = index % c
                    let from = src + index * plane, to = dst + image * plane * c + channel
                    for position in 0..<plane { to[position * c] = from[position] }
                }
            }
        }
    }
    return output
}
