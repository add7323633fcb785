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

    /// `weight` [O, C, 3, 3], `bias` [O] or nil.
    public init(weight: Tensor, bias: Tensor?, window: Window2D) {
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
        products = transformed.map { PackedConvolution(weight: $0, bias: nil, window: Window2D(kernel: 1)) }
    }
}

/// `conv2dNHWC` for a Winograd-prepared 3×3 convolution: per image, the
/// input transform, 16 [tiles, C]·[C, O] products on the conv_nhwc kernel,
/// and the output transform with bias, residual and ReLU.
public func conv2dNHWC(_ input: Tensor, _ conv: WinogradConvolution, residual: Tensor? = nil, relu: Bool) -> Tensor {
    precondition(input.rank == 4 && input.shape[3] == conv.inputChannels,
                 "conv2dNHWC takes [N, H, W, \(conv.inputChannels)], got \(input.shape)")
    let n = input.shape[0], h = input.shape[1], w = input.shape[2], c = conv.inputChannels, o = conv.outputChannels
    let (oh, ow) = conv.window.outputSize(height: h, width: w)
    let output = Tensor(zeros: [n, oh, ow, o])
    precondition(residual == nil || residual!.shape == output.shape, "conv2dNHWC: residual \(residual!.shape) does not match \(output.shape)")
    if output.count == 0 { return output }
    let tilesHigh = (oh + 1) / 2, tilesWide = (ow + 1) / 2, tiles = tilesHigh * tilesWide
    let transformed = Tensor(zeros: [16 * tiles * c])
    let products = Tensor(zeros: [16 * tiles * o])
    let zeros = Tensor(zeros: [max(c, 1)])
    let table = UnsafeMutablePointer<UnsafePointer<Float>?>.allocate(capacity: 16 * tiles)
    defer { table.deallocate() }
    let tile = Int(QUERN_CONV_TILE_PIXELS), panels = (o + Int(QUERN_CONV_PANEL) - 1) / Int(QUERN_CONV_PANEL)
    let tileGroups = (tiles + tile - 1) / tile
    // Split each product's rows in chunks of whole tiles, and its panels when there are few rows.
    let rowChunks = max(1, min(tileGroups, 4))
    let groupsPerChunk = (tileGroups + rowChunks - 1) / rowChunks
    let panelGroups = min(panels, max(1, 4 / rowChunks))
    let panelsPerGroup = (panels + panelGroups - 1) / panelGroups
    transformed.withMutablePointer { v in
        for product in 0..<16 {
            for row in 0..<tiles { table[product * tiles + row] = UnsafePointer(v + (product * tiles + row) * c) }
        }
    }
    for image in 0..<n {
        input.withPointer { src in
            zeros.withPointer { zero in
                transformed.withMutablePointer { v in
                    parallelFor(tiles, grain: 8) { range in
                        quern_winograd_input(src + image * h * w * c, Int32(h), Int32(w), Int32(c), Int32(conv.window.padding.top),
                                             Int32(conv.window.padding.left), Int32(tilesHigh), Int32(tilesWide), zero, v,
                                             range.lowerBound, range.upperBound)
                    }
                }
            }
        }
        products.withMutablePointer { m in
            parallelFor(16 * rowChunks * panelGroups, grain: 1) { range in
                for item in range {
                    let product = item / (rowChunks * panelGroups), chunk = (item / panelGroups) % rowChunks, group = item % panelGroups
                    let first = chunk * groupsPerChunk * tile, last = min(tiles, first + groupsPerChunk * tile)
                    let firstPanel = group * panelsPerGroup, lastPanel = min(panels, firstPanel + panelsPerGroup)
                    if first >= last || firstPanel >= lastPanel { continue }
                    let packed = conv.products[product]
                    packed.packed.withPointer { weights in
                        packed.bias.withPointer { noBias in
                            let rows: UnsafePointer<UnsafePointer<Float>?> = UnsafePointer(table + product * tiles)
                            let destination: UnsafeMutablePointer<Float> = m + product * tiles * o
                            var job = quern_conv_job()
                            job.indirection = rows
                            job.taps = 1
                            job.channels = Int32(c)
                            job.packed = weights
                            job.bias = noBias
                            job.output = destination
                            job.out_channels = Int32(o)
                            quern_conv_nhwc_run(&job, first, last, Int32(firstPanel), Int32(lastPanel))
                        }
                    }
                }
            }
        }
        products.withPointer { m in
            conv.bias.withPointer { bias in
                output.withMutablePointer { out in
                    let finish = { (residualImage: UnsafePointer<Float>?) in
                        parallelFor(tiles, grain: 8) { range in
                            quern_winograd_output(m, Int32(tilesHigh), Int32(tilesWide), Int32(oh), Int32(ow), Int32(o), bias, residualImage,
                                                  out + image * oh * ow * o, relu ? 1 : 0, range.lowerBound, range.upperBound)
                        }
                    }
                    if let residual { residual.withPointer { finish($0 + image * oh * ow * o) } } else { finish(nil) }
                }
            }
        }
    }
    return output
}
