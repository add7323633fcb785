/// A linear layer's weights in bfloat16: y = x · weightᵀ + bias with the
/// products on the bfloat16 tile. A linear layer over rows is a 1×1
/// convolution over pixels, so the weights are packed as one and run
/// through the same kernel, threads and edge handling.
public struct BFloat16Linear: Sendable {
    let convolution: PackedConvolution
    public var inputFeatures: Int { convolution.inputChannels }
    public var outputFeatures: Int { convolution.outputChannels }

    /// Whether a layer of `inputFeatures` can run in bfloat16 (the products read features in pairs).
    public static func supports(inputFeatures: Int) -> Bool { inputFeatures % 2 == 0 }

    /// `weight` [out, in] (nn.Linear order), `bias` [out] or nil; `in` must be even (`supports`).
    public init(weight: Tensor, bias: Tensor?) {
        precondition(weight.rank == 2 && Self.supports(inputFeatures: weight.shape[1]),
                     "BFloat16Linear takes [out, in] with an even in, got \(weight.shape)")
        convolution = PackedConvolution(weight: weight.reshaped([weight.shape[0], weight.shape[1], 1, 1]), bias: bias,
                                        window: Window2D(kernel: 1), precision: .bfloat16)
    }

    /// Bytes of weights and bias held.
    public var residentBytes: Int { convolution.residentBytes }

    /// x[..., in] → [..., out].
    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(x.lastDimension == inputFeatures, "BFloat16Linear: input \(x.shape) does not match \(inputFeatures) features")
        let rows = x.leadingCount
        let y = conv2dNHWC(x.reshaped([1, 1, rows, inputFeatures]), convolution, relu: false)
        return y.reshaped(Array(x.shape.dropLast()) + [outputFeatures])
    }
}
