/// A convolution's weights prepared once for the NHWC kernels, on the kernel
/// that computes it best: Winograd F(2×2, 3×3) for stride-1 3×3 windows, the
/// direct register-tiled kernel for everything else. ResNet and
/// `quern bench kernels` both choose through here, so the bench measures
/// what the model runs.
public enum PreparedConvolution: Sendable {
    case direct(PackedConvolution)
    case winograd(WinogradConvolution)

    /// `weight` [O, C, kh, kw] (PyTorch/ONNX order), `bias` [O] or nil.
    /// `precision` applies where the layer's shape allows it
    /// (`PackedConvolution.takesBFloat16`); the same kernel choice holds in
    /// both precisions (Winograd keeps paying in bfloat16: its 2.25× fewer
    /// products and the tile's doubled rate multiply).
    public init(weight: Tensor, bias: Tensor?, window: Window2D, precision: Precision = .float32) {
        self = WinogradConvolution.supports(window)
            ? .winograd(WinogradConvolution(weight: weight, bias: bias, window: window, precision: precision))
            : .direct(PackedConvolution(weight: weight, bias: bias, window: window, precision: precision))
    }

    /// What this layer's products run in.
    public var precision: Precision {
        switch self {
        case .direct(let packed): packed.precision
        case .winograd(let prepared): prepared.precision
        }
    }

    /// The same layer with its products in `precision` where its shape allows.
    public func converted(to precision: Precision) -> PreparedConvolution {
        switch self {
        case .direct(let packed): return .direct(packed.converted(to: precision))
        case .winograd(let prepared): return .winograd(prepared.converted(to: precision))
        }
    }

    /// Bytes of weights and bias held.
    public var residentBytes: Int {
        switch self {
        case .direct(let packed): packed.residentBytes
        case .winograd(let prepared): prepared.residentBytes
        }
    }

    public var window: Window2D {
        switch self {
        case .direct(let packed): packed.window
        case .winograd(let prepared): prepared.window
        }
    }

    public var inputChannels: Int {
        switch self {
        case .direct(let packed): packed.inputChannels
        case .winograd(let prepared): prepared.inputChannels
        }
    }

    public var outputChannels: Int {
        switch self {
        case .direct(let packed): packed.outputChannels
        case .winograd(let prepared): prepared.outputChannels
        }
    }

    /// Input [N, H, W, C] → [N, OH, OW, O], adding `residual` (the output's
    /// shape) before the optional ReLU, in the kernel's epilogue.
    public func callAsFunction(_ input: Tensor, residual: Tensor? = nil, relu: Bool) -> Tensor {
        switch self {
        case .direct(let packed): conv2dNHWC(input, packed, residual: residual, relu: relu)
        case .winograd(let prepared): conv2dNHWC(input, prepared, residual: residual, relu: relu)
        }
    }
}
