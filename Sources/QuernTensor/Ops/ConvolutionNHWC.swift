import CQuernKernels
import Synchronization

/// A 2-D convolution's weights packed once for `conv2dNHWC`: panels of 32
/// output channels, each [kh·kw·C][32] (tap-major, then input channel),
/// zero-padded past the last channel, and the bias padded the same way.
/// In `bfloat16` the panels are rounded and stored as bfloat16 pairs
/// (`quern_bf16_pack_panels`) and the float32 panels are not kept.
public struct PackedConvolution: @unchecked Sendable {
    public let window: Window2D
    public let inputChannels: Int
    public let outputChannels: Int
    /// The float32 panels (empty in bfloat16).
    let packed: Tensor
    /// The bfloat16 panels, or nil in float32.
    let packedBF16: BFloat16Buffer?
    let bias: Tensor

    /// What the products run in: `bfloat16` only when it was asked for and
    /// the shape allows it (`takesBFloat16`).
    public var precision: Precision { packedBF16 == nil ? .float32 : .bfloat16 }

    /// Bytes of weights and bias held.
    public var residentBytes: Int { packed.count * 4 + (packedBF16?.byteCount ?? 0) + bias.count * 4 }

    /// Whether a convolution of `inputChannels` over `window` can run in
    /// bfloat16: the products read their rows in pairs, so a tap's
    /// channels must be even — or the kernel reads whole kernel rows (a stem
    /// on RGB: 7·3 = 21 values), which are padded to an even length.
    public static func takesBFloat16(inputChannels: Int, window: Window2D) -> Bool {
        inputChannels % 2 == 0 || readsKernelRows(inputChannels: inputChannels, window: window)
    }

    /// Few channels per tap (a stem on RGB: 3 values) make short inner loops.
    /// Then each tap is a whole kernel row instead: over a zero-padded copy of
    /// the input, the kw pixels a kernel row covers are kw·C contiguous
    /// values (21 for a 7×7 stem on RGB), and the packed weights are already
    /// in that order (tap-major, then channel).
    static func readsKernelRows(inputChannels: Int, window: Window2D) -> Bool {
        window.kernel.height * window.kernel.width > 1 && inputChannels < 16 && window.kernel.width > 1 && window.dilation.width == 1
    }

    var readsKernelRows: Bool { Self.readsKernelRows(inputChannels: inputChannels, window: window) }

    /// Values one product row reads in bfloat16: a kernel row (rounded up
    /// to even: the weights get a zero row there, and the row reads one
    /// value of the next pixel) or a tap's channels.
    var bfloat16RowLength: Int { readsKernelRows ? (window.kernel.width * inputChannels + 1) / 2 * 2 : inputChannels }

    static let panel = Int(QUERN_CONV_PANEL)
    var panels: Int { (outputChannels + Self.panel - 1) / Self.panel }
    var taps: Int { window.kernel.height * window.kernel.width }

    /// `weight` [O, C, kh, kw] (PyTorch/ONNX order), `bias` [O] or nil;
    /// `precision` is honoured where `takesBFloat16` allows it.
    public init(weight: Tensor, bias: Tensor?, window: Window2D, precision: Precision = .float32) {
        precondition(weight.rank == 4 && weight.shape[2] == window.kernel.height && weight.shape[3] == window.kernel.width,
                     "PackedConvolution: weight \(weight.shape) does not match kernel \(window.kernel)")
        let o = weight.shape[0], c = weight.shape[1], kh = weight.shape[2], kw = weight.shape[3]
        precondition(bias == nil || bias!.count == o, "PackedConvolution: bias needs \(o) values")
        let panelWidth = Self.panel
        let panels = (o + panelWidth - 1) / panelWidth
        let k = kh * kw * c
        let packed = Tensor(zeros: [panels * k * panelWidth])
        let paddedBias = Tensor(zeros: [panels * panelWidth])
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
        if let bias { for i in 0..<o { paddedBias[flat: i] = bias[flat: i] } }
        self.init(window: window, inputChannels: c, outputChannels: o, packed: packed, packedBF16: nil, bias: paddedBias)
        if precision == .bfloat16 { self = converted(to: .bfloat16) }
    }

    private init(window: Window2D, inputChannels: Int, outputChannels: Int, packed: Tensor, packedBF16: BFloat16Buffer?, bias: Tensor) {
        self.window = window
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.packed = packed
        self.packedBF16 = packedBF16
        self.bias = bias
    }

    /// The same convolution with its products in `precision`: float32
    /// panels rounded to bfloat16 (and dropped) when the shape allows it.
    /// bfloat16 weights are not widened back: that would only pretend to
    /// be the float32 model, so they stay as they are.
    public func converted(to precision: Precision) -> PackedConvolution {
        guard precision == .bfloat16, packedBF16 == nil, Self.takesBFloat16(inputChannels: inputChannels, window: window) else { return self }
        var source = packed, k = taps * inputChannels
        let rowLength = bfloat16RowLength, kernelRows = readsKernelRows ? window.kernel.height : taps
        if rowLength * kernelRows != k {
            // Kernel rows of odd length: a zero weight row after each.
            let panelWidth = Self.panel, oldRow = k / kernelRows
            source = Tensor(zeros: [panels * kernelRows * rowLength * panelWidth])
            packed.withPointer { from in
                source.withMutablePointer { to in
                    for panel in 0..<panels {
                        for row in 0..<kernelRows {
                            (to + (panel * kernelRows * rowLength + row * rowLength) * panelWidth)
                                .update(from: from + (panel * k + row * oldRow) * panelWidth, count: oldRow * panelWidth)
                        }
                    }
                }
            }
            k = kernelRows * rowLength
        }
        let rounded = BFloat16Buffer(count: source.count)
        source.withPointer { quern_bf16_pack_panels($0, panels, k, rounded.base) }
        return PackedConvolution(window: window, inputChannels: inputChannels, outputChannels: outputChannels, packed: Tensor(zeros: [0]),
                                 packedBF16: rounded, bias: bias)
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
    let pixels = n * oh * ow
    if pixels == 0 || conv.outputChannels == 0 { return Tensor(zeros: [n, oh, ow, conv.outputChannels]) }
    // Every output value is written by the kernel's tiles.
    let output = Tensor(overwrittenShape: [n, oh, ow, conv.outputChannels])
    precondition(residual == nil || residual!.shape == output.shape, "conv2dNHWC: residual \(residual!.shape) does not match \(output.shape)")
    if let weights = conv.packedBF16 {
        conv2dNHWCBFloat16(input, conv, weights: weights, residual: residual, relu: relu, into: output)
        return output
    }
    let byKernelRow = conv.readsKernelRows
    let source = byKernelRow ? paddedForKernelRows(input, window: window, outputHeight: oh, outputWidth: ow) : input
    let taps = byKernelRow ? window.kernel.height : conv.taps
    let tapChannels = byKernelRow ? window.kernel.width * c : c
    // A 1×1 stride-1 unpadded convolution reads its input rows in order: no table.
    let dense = window.isPointwise
    let table = UnsafeMutablePointer<UnsafePointer<Float>?>.allocate(capacity: dense ? 1 : pixels * taps)
    defer { table.deallocate() }
    let zeros = Tensor(zeros: [max(c, 1)])
    let tile = Int(QUERN_CONV_TILE_PIXELS)
    let split = ConvolutionWork.split(tileGroups: (pixels + tile - 1) / tile, panels: conv.panels, threads: ComputeThreads.count)
    source.withPointer { src in
        zeros.withPointer { zero in
            if dense {
                // The kernel derives the rows itself.
            } else if byKernelRow {
                // One pointer per kernel row, at the window's left edge in the padded copy.
                quern_conv_build_indirection(
                    src, Int32(n), Int32(source.shape[1]), Int32(source.shape[2]), Int32(c), Int32(window.kernel.height), 1,
                    Int32(window.stride.height), Int32(window.stride.width), 0, 0, Int32(window.dilation.height), 1,
                    Int32(oh), Int32(ow), zero, table)
            } else {
                quern_conv_build_indirection(
                    src, Int32(n), Int32(h), Int32(w), Int32(c), Int32(window.kernel.height), Int32(window.kernel.width),
                    Int32(window.stride.height), Int32(window.stride.width), Int32(window.padding.top), Int32(window.padding.left),
                    Int32(window.dilation.height), Int32(window.dilation.width), Int32(oh), Int32(ow), zero, table)
            }
            conv.packed.withPointer { packed in
                conv.bias.withPointer { bias in
                    var job = quern_conv_job()
                    job.indirection = dense ? nil : UnsafePointer(table)
                    job.input = src
                    job.taps = Int32(taps)
                    job.channels = Int32(tapChannels)
                    job.packed = packed
                    job.bias = bias
                    run(&job, conv, relu: relu, residual: residual, output: output, split: split, pixels: pixels)
                }
            }
        }
    }
    return output
}

/// `conv2dNHWC` with bfloat16 weights: the input is rounded to a bfloat16
/// copy once, then the same indirection and work split as float32 feed
/// the bfloat16 tile.
private func conv2dNHWCBFloat16(_ input: Tensor, _ conv: PackedConvolution, weights: BFloat16Buffer, residual: Tensor?, relu: Bool,
                                into output: Tensor) {
    let n = input.shape[0], h = input.shape[1], w = input.shape[2], c = conv.inputChannels
    let window = conv.window
    let (oh, ow) = window.outputSize(height: h, width: w)
    let pixels = n * oh * ow
    let byKernelRow = conv.readsKernelRows
    // A padded kernel row reads one value past its pixel's: one zero of slack at the end.
    let source = byKernelRow ? paddedForKernelRows(input, window: window, outputHeight: oh, outputWidth: ow) : input
    let rounded = BFloat16Buffer.rounding(source, slack: 1)
    let taps = byKernelRow ? window.kernel.height : conv.taps
    let dense = window.isPointwise
    let table = UnsafeMutablePointer<UnsafePointer<UInt16>?>.allocate(capacity: dense ? 1 : pixels * taps)
    defer { table.deallocate() }
    let zeros = BFloat16Buffer(count: max(c, 1))
    zeros.base.update(repeating: 0, count: zeros.count)
    let tile = Int(QUERN_CONV_TILE_PIXELS)
    let split = ConvolutionWork.split(tileGroups: (pixels + tile - 1) / tile, panels: conv.panels, threads: ComputeThreads.count)
    rounded.withPointer { src in
        zeros.withPointer { zero in
            if byKernelRow {
                // One pointer per kernel row, at the window's left edge in the padded copy.
                quern_conv_build_indirection_bf16(
                    src, Int32(n), Int32(source.shape[1]), Int32(source.shape[2]), Int32(c), Int32(window.kernel.height), 1,
                    Int32(window.stride.height), Int32(window.stride.width), 0, 0, Int32(window.dilation.height), 1,
                    Int32(oh), Int32(ow), zero, table)
            } else if !dense {
                quern_conv_build_indirection_bf16(
                    src, Int32(n), Int32(h), Int32(w), Int32(c), Int32(window.kernel.height), Int32(window.kernel.width),
                    Int32(window.stride.height), Int32(window.stride.width), Int32(window.padding.top), Int32(window.padding.left),
                    Int32(window.dilation.height), Int32(window.dilation.width), Int32(oh), Int32(ow), zero, table)
            }
            weights.withPointer { packed in
                conv.bias.withPointer { bias in
                    var job = quern_conv_job()
                    job.indirection_bf16 = dense ? nil : UnsafePointer(table)
                    job.input_bf16 = src
                    job.taps = Int32(taps)
                    job.channels = Int32(conv.bfloat16RowLength)
                    job.packed_bf16 = packed
                    job.bias = bias
                    run(&job, conv, relu: relu, residual: residual, output: output, split: split, pixels: pixels)
                }
            }
        }
    }
}

/// Runs a convolution job whose input and weights are set: the output,
/// residual, ReLU, then every work item of `split` on the compute threads.
private func run(_ job: inout quern_conv_job, _ conv: PackedConvolution, relu: Bool, residual: Tensor?, output: Tensor,
                 split: ConvolutionWork, pixels: Int) {
    job.out_channels = Int32(conv.outputChannels)
    job.relu = relu ? 1 : 0
    output.withMutablePointer { out in
        job.output = out
        let go = { (residualPointer: UnsafePointer<Float>?, job: inout quern_conv_job) in
            job.residual = residualPointer
            split.forEachItem(rows: pixels, rowsPerGroup: Int(QUERN_CONV_TILE_PIXELS)) { rows, panels in
                quern_conv_nhwc_run(&job, rows.lowerBound, rows.upperBound, Int32(panels.lowerBound), Int32(panels.upperBound))
            }
        }
        if let residual { residual.withPointer { go($0, &job) } } else { go(nil, &job) }
    }
}

/// `input` [N, H, W, C] placed at (top, left) padding in zeros, cut to the
/// rows and columns the windows of an oh × ow output reach (dilation 1
/// across), so that every window of `window` lies inside it.
private func paddedForKernelRows(_ input: Tensor, window: Window2D, outputHeight oh: Int, outputWidth ow: Int) -> Tensor {
    let n = input.shape[0], h = input.shape[1], w = input.shape[2], c = input.shape[3]
    let paddedHeight = (oh - 1) * window.stride.height + (window.kernel.height - 1) * window.dilation.height + 1
    let paddedWidth = (ow - 1) * window.stride.width + window.kernel.width
    let padded = Tensor(zeros: [n, paddedHeight, paddedWidth, c])
    let top = window.padding.top, left = window.padding.left
    let columns = max(0, min(w, paddedWidth - left))
    if columns == 0 { return padded }
    input.withPointer { src in
        padded.withMutablePointer { dst in
            for image in 0..<n {
                for y in 0..<min(h, max(0, paddedHeight - top)) {
                    (dst + ((image * paddedHeight + y + top) * paddedWidth + left) * c)
                        .update(from: src + ((image * h + y) * w) * c, count: columns * c)
                }
            }
        }
    }
    return padded
}

/// How a convolution's output — register tiles of pixels × panels of 32
/// channels — is cut into work items for the compute threads.
struct ConvolutionWork {
    let tileGroups: Int, panels: Int
    /// Pieces the tiles and the panels are each cut into (evenly).
    let chunks: Int, panelGroups: Int

    var items: Int { chunks * panelGroups }

    /// Tile groups and panels of work item `index`.
    func item(_ index: Int) -> (tiles: Range<Int>, panels: Range<Int>) {
        let chunk = index / panelGroups, group = index % panelGroups
        return (chunk * tileGroups / chunks..<(chunk + 1) * tileGroups / chunks,
                group * panels / panelGroups..<(group + 1) * panels / panelGroups)
    }

    /// Runs `body(rows, panels)` — a C kernel returning 0, or nonzero when
    /// it could not get its scratch memory — for every non-empty work item on
    /// the compute threads, the tile groups turned into rows of `rows` (groups
    /// of `rowsPerGroup`). Stops the process if any item failed: that is only
    /// ever out of memory.
    func forEachItem(rows: Int, rowsPerGroup: Int, _ body: (Range<Int>, Range<Int>) -> Int32) {
        let failed = Atomic<Bool>(false)
        parallelFor(items, grain: 1) { range in
            for index in range {
                let (groups, panels) = item(index)
                let first = min(rows, groups.lowerBound * rowsPerGroup), last = min(rows, groups.upperBound * rowsPerGroup)
                if first < last && !panels.isEmpty && body(first..<last, panels) != 0 { failed.store(true, ordering: .relaxed) }
            }
        }
        precondition(!failed.load(ordering: .relaxed), "a convolution kernel ran out of memory for its scratch")
    }

    /// The cut that finishes first on `threads` threads: the threads take
    /// items in rounds, a round lasts as long as its largest item (in tile ×
    /// panel units), and each item costs `itemOverhead` units more, plus
    /// `perTileOverhead` for each of its tile groups (work an item repeats
    /// for its tiles whatever its panels, like a Winograd input transform).
    /// A small map (a 7×7 stage has 5 tile groups) is cut across panels too
    /// instead of leaving a thread idle for a round.
    static func split(tileGroups: Int, panels: Int, threads: Int, perTileOverhead: Double = 0) -> ConvolutionWork {
        guard threads > 1, tileGroups * panels > 1 else { return ConvolutionWork(tileGroups: tileGroups, panels: panels, chunks: 1, panelGroups: 1) }
        let itemOverhead = 0.05
        var best = (cost: Double.infinity, chunks: 1, panelGroups: 1)
        // parallelFor gives each of up to 4 items per thread its own turn.
        for chunks in 1...min(tileGroups, threads * 4) {
            for panelGroups in 1...min(panels, threads * 4 / chunks) {
                let tilesPerItem = Double((tileGroups + chunks - 1) / chunks), panelsPerItem = Double((panels + panelGroups - 1) / panelGroups)
                let rounds = Double((chunks * panelGroups + threads - 1) / threads)
                let cost = rounds * (tilesPerItem * (panelsPerItem + perTileOverhead) + itemOverhead)
                if cost < best.cost - 1e-9 { best = (cost, chunks, panelGroups) }
            }
        }
        return ConvolutionWork(tileGroups: tileGroups, panels: panels, chunks: best.chunks, panelGroups: best.panelGroups)
    }
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
