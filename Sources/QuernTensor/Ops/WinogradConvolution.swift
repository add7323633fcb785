import CQuernKernels

/// A stride-1 3×3 convolution prepared for Winograd F(2×2, 3×3) over NHWC:
/// the 16 transformed weight matrices U[ξ] = (G g Gᵀ)[ξ] ([C, O] each, packed
/// for the conv_nhwc kernel) and the bias. 2.25× fewer multiplications than
/// the direct convolution; the transforms only add and subtract, so results
/// stay within float32 rounding of it (the tests hold it to the same
/// tolerance as the direct kernel).
public struct WinogradConvolution: @unchecked Sendable {
    public let window: Window2D
    public let inputChannels: Int
    public let outputChannels: Int
    let products: [PackedConvolution]
    let bias: Tensor

    /// Whether `window` is a convolution this form computes: 3×3, stride 1, no dilation.
    public static func supports(_ window: Window2D) -> Bool {
        window.kernel == (3, 3) && window.stride == (1, 1) && window.dilation == (1, 1)
    }

    /// What the 16 products run in (the transforms are float32 either way).
    public var precision: Precision { products.first?.precision ?? .float32 }

    /// Bytes of weights and bias held.
    public var residentBytes: Int { products.reduce(bias.count * 4) { $0 + $1.residentBytes } }

    /// `weight` [O, C, 3, 3], `bias` [O] or nil. In `bfloat16` (with C even)
    /// the transformed weights are rounded and the transformed input is
    /// rounded before the products.
    public init(weight: Tensor, bias: Tensor?, window: Window2D, precision: Precision = .float32) {
        precondition(Self.supports(window) && weight.rank == 4 && weight.shape[2] == 3 && weight.shape[3] == 3,
                     "WinogradConvolution takes a 3x3 stride-1 weight, got \(weight.shape) with \(window)")
        let o = weight.shape[0], c = weight.shape[1]
        precondition(bias == nil || bias!.count == o, "WinogradConvolution: bias needs \(o) values")
        self.window = window
        inputChannels = c
        outputChannels = o
        self.bias = bias?.copy().reshaped([o]) ?? Tensor(zeros: [o])
        // U = G g Gᵀ per (output, input) pair, in double precision.
        let g: [[Double]] = [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]]
        let transformed = (0..<16).map { _ in Tensor(zeros: [o, c, 1, 1]) }
        weight.withPointer { w in
            for out in 0..<o {
                for channel in 0..<c {
                    let kernel = w + (out * c + channel) * 9
                    for a in 0..<4 {
                        for b in 0..<4 {
                            var total = 0.0
                            for i in 0..<3 { for j in 0..<3 { total += g[a][i] * Double(kernel[i * 3 + j]) * g[b][j] } }
                            transformed[a * 4 + b][flat: out * c + channel] = Float(total)
                        }
                    }
                }
            }
        }
        products = transformed.map { PackedConvolution(weight: $0, bias: nil, window: Window2D(kernel: 1), precision: precision) }
    }

    private init(window: Window2D, inputChannels: Int, outputChannels: Int, products: [PackedConvolution], bias: Tensor) {
        self.window = window
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.products = products
        self.bias = bias
    }

    /// The same convolution with its 16 products in `precision` (see `PackedConvolution.converted`).
    public func converted(to precision: Precision) -> WinogradConvolution {
        WinogradConvolution(window: window, inputChannels: inputChannels, outputChannels: outputChannels,
                            products: products.map { $0.converted(to: precision) }, bias: bias)
    }
}

/// `conv2dNHWC` for a Winograd-prepared 3×3 convolution: the batch's 2×2
/// output tiles in blocks, each block transformed, multiplied by the 16
/// U[ξ] on the conv_nhwc kernel and transformed back with bias, residual and
/// ReLU while it is in cache (CQuernKernels/winograd.c). One parallel job:
/// tiles are split evenly over the threads, and output panels too when a
/// small map has too few tiles to go round.
public func conv2dNHWC(_ input: Tensor, _ conv: WinogradConvolution, residual: Tensor? = nil, relu: Bool) -> Tensor {
    precondition(input.rank == 4 && input.shape[3] == conv.inputChannels,
                 "conv2dNHWC takes [N, H, W, \(conv.inputChannels)], got \(input.shape)")
    let n = input.shape[0], h = input.shape[1], w = input.shape[2], c = conv.inputChannels, o = conv.outputChannels
    let (oh, ow) = conv.window.outputSize(height: h, width: w)
    precondition(residual == nil || residual!.shape == [n, oh, ow, o], "conv2dNHWC: residual \(residual!.shape) does not match \([n, oh, ow, o])")
    if n * oh * ow * o == 0 { return Tensor(zeros: [n, oh, ow, o]) }
    let output = Tensor(overwrittenShape: [n, oh, ow, o])
    let tilesHigh = (oh + 1) / 2, tilesWide = (ow + 1) / 2, tiles = n * tilesHigh * tilesWide
    let tile = Int(QUERN_CONV_TILE_PIXELS), panels = (o + Int(QUERN_CONV_PANEL) - 1) / Int(QUERN_CONV_PANEL)
    // Work items: whole register tiles of Winograd tiles × groups of panels;
    // an item transforms its tiles' input for its own panels (about 1/16 of
    // one panel's products).
    let split = ConvolutionWork.split(tileGroups: (tiles + tile - 1) / tile, panels: panels, threads: ComputeThreads.count,
                                      perTileOverhead: 1.0 / 16)
    let zeros = Tensor(zeros: [max(c, 1)])
    let weights = conv.products.map(\.packed)
    // The bfloat16 weights' table; their buffers are held by `conv` for the call.
    let bf16 = conv.precision == .bfloat16
    let roundedWeights = UnsafeMutablePointer<UnsafePointer<UInt16>?>.allocate(capacity: conv.products.count)
    defer { roundedWeights.deallocate() }
    for (index, product) in conv.products.enumerated() { roundedWeights[index] = product.packedBF16.map { UnsafePointer($0.base) } }
    input.withPointer { src in
        zeros.withPointer { zero in
            conv.bias.withPointer { bias in
                output.withMutablePointer { out in
                    withPointers(to: weights) { packed in
                        let run = { (residualPointer: UnsafePointer<Float>?) in
                            var job = quern_winograd_job()
                            job.packed_bf16 = bf16 ? UnsafePointer(roundedWeights) : nil
                            job.input = src
                            job.height = Int32(h)
                            job.width = Int32(w)
                            job.channels = Int32(c)
                            job.pad_top = Int32(conv.window.padding.top)
                            job.pad_left = Int32(conv.window.padding.left)
                            job.zeros = zero
                            job.tiles_h = Int32(tilesHigh)
                            job.tiles_w = Int32(tilesWide)
                            job.packed = packed
                            job.bias = bias
                            job.residual = residualPointer
                            job.output = out
                            job.out_h = Int32(oh)
                            job.out_w = Int32(ow)
                            job.out_channels = Int32(o)
                            job.relu = relu ? 1 : 0
                            // The scratch is 64·block·(C + 32) bytes per thread (about
                            // 0.5 MB at ResNet widths), whatever the image size.
                            split.forEachItem(rows: tiles, rowsPerGroup: tile) { tileRange, panels in
                                quern_winograd_run(&job, tileRange.lowerBound, tileRange.upperBound, Int32(panels.lowerBound), Int32(panels.upperBound))
                            }
                        }
                        withExtendedLifetime(conv) {
                            if let residual { residual.withPointer { run($0) } } else { run(nil) }
                        }
                    }
                }
            }
        }
    }
    return output
}

/// Calls `body` with a C array of the base pointers of `tensors`, valid for the call.
private func withPointers<R>(to tensors: [Tensor], _ body: (UnsafePointer<UnsafePointer<Float>?>) -> R) -> R {
    var pointers: [UnsafePointer<Float>?] = []
    pointers.reserveCapacity(tensors.count)
    func collect(_ index: Int) -> R {
        if index == tensors.count { return pointers.withUnsafeBufferPointer { body($0.baseAddress!) } }
        return tensors[index].withPointer { pointer in
            pointers.append(pointer)
            return collect(index + 1)
        }
    }
    return collect(0)
}
