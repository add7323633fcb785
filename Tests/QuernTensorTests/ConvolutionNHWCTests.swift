import QuernTensor
import Testing

/// conv2dNHWC (indirection table + register-tiled kernel, bias/residual/ReLU
/// epilogue), direct and Winograd, against the naive double-precision
/// reference (ConvolutionReference.swift) on every kernel variant this CPU
/// can run; and the NHWC pools against the NCHW ones.
@Suite(.serialized) struct ConvolutionNHWCTests {
    static let cases: [ConvReference.Case] = ConvReference.cases + [
        // Output channels past a whole panel of 32, pixels not a multiple of the 12-pixel tile.
        .init(input: [2, 5, 7, 5], out: 40, kernel: (3, 3), stride: (1, 1), padding: (1, 1, 1, 1), dilation: (1, 1), bias: true),
        // The Caffe-style max-pool-like asymmetric padding on a stride-2 1×1 and a wide 7×7 stem.
        .init(input: [1, 24, 13, 11], out: 33, kernel: (1, 1), stride: (2, 2), padding: (0, 0, 0, 0), dilation: (1, 1), bias: true),
        .init(input: [2, 3, 23, 19], out: 64, kernel: (7, 7), stride: (2, 2), padding: (3, 3, 3, 3), dilation: (1, 1), bias: true),
        .init(input: [1, 96, 7, 7], out: 100, kernel: (3, 3), stride: (2, 2), padding: (1, 1, 1, 1), dilation: (1, 1), bias: false),
    ]

    static func nhwc(_ x: Tensor) -> Tensor { permute(x, [0, 2, 3, 1]) }
    static func nchw(_ x: Tensor) -> Tensor { permute(x, [0, 3, 1, 2]) }

    /// Runs `convolution` (built by `prepare` from the weight and bias) on
    /// every kernel variant against the double reference, plain and with the
    /// residual and ReLU fused into the epilogue.
    static func checkOnEveryVariant(_ c: ConvReference.Case, seed: UInt64, label: String,
                                    prepare: (Tensor, Tensor?, Window2D) -> (Tensor, Tensor?, Bool) -> Tensor) {
        let window = c.window
        let x = tensor(c.input, seed: seed)
        let w = tensor([c.out, c.input[1], c.kernel.0, c.kernel.1], seed: seed + 1)
        let b = c.bias ? tensor([c.out], seed: seed + 2) : nil
        let ref = ConvReference.conv(Reference.values(x), c.input, Reference.values(w), w.shape, b.map(Reference.values), window)
        let convolution = prepare(w, b, window)
        let residual = tensor(ref.shape, seed: seed + 3)
        let residualValues = Reference.values(residual)
        for variant in ["avx512", "avx2", "scalar"] {
            guard QuantKernels.force(variant) else { continue }
            defer { QuantKernels.force("auto") }
            let y = nchw(convolution(nhwc(x), nil, false))
            #expect(y.shape == ref.shape)
            expectClose(y.scalars, ref.values, scale: ref.scale, "\(label)\(variant) \(c)")
            // Residual and ReLU in the epilogue.
            let fused = nchw(convolution(nhwc(x), nhwc(residual), true))
            let expected = zip(ref.values, residualValues).map { max($0 + $1, 0) }
            expectClose(fused.scalars, expected, scale: zip(ref.scale, residualValues).map { $0 + abs($1) }, "\(label)\(variant) fused \(c)")
        }
    }

    @Test(arguments: cases)
    func matchesDoubleReferenceOnEveryVariant(c: ConvReference.Case) {
        Self.checkOnEveryVariant(c, seed: 21, label: "") { w, b, window in
            let packed = PackedConvolution(weight: w, bias: b, window: window)
            return { x, residual, relu in conv2dNHWC(x, packed, residual: residual, relu: relu) }
        }
    }

    static let winogradCases: [ConvReference.Case] = [
        .init(input: [1, 3, 9, 7], out: 4, kernel: (3, 3), stride: (1, 1), padding: (1, 1, 1, 1), dilation: (1, 1), bias: true),
        .init(input: [2, 37, 7, 7], out: 40, kernel: (3, 3), stride: (1, 1), padding: (1, 1, 1, 1), dilation: (1, 1), bias: true),
        .init(input: [1, 16, 10, 9], out: 33, kernel: (3, 3), stride: (1, 1), padding: (0, 2, 1, 0), dilation: (1, 1), bias: false),
        .init(input: [1, 64, 14, 14], out: 64, kernel: (3, 3), stride: (1, 1), padding: (1, 1, 1, 1), dilation: (1, 1), bias: true),
        .init(input: [1, 2, 1, 1], out: 3, kernel: (3, 3), stride: (1, 1), padding: (1, 1, 1, 1), dilation: (1, 1), bias: true),
        // Several blocks of tiles, blocks that span two images, odd output
        // sizes and a last panel of 8 channels.
        .init(input: [3, 48, 25, 30], out: 40, kernel: (3, 3), stride: (1, 1), padding: (1, 0, 1, 2), dilation: (1, 1), bias: true),
    ]

    @Test(arguments: winogradCases)
    func winogradMatchesDoubleReferenceOnEveryVariant(c: ConvReference.Case) {
        #expect(WinogradConvolution.supports(c.window))
        Self.checkOnEveryVariant(c, seed: 31, label: "winograd ") { w, b, window in
            let prepared = WinogradConvolution(weight: w, bias: b, window: window)
            return { x, residual, relu in conv2dNHWC(x, prepared, residual: residual, relu: relu) }
        }
    }

    /// The kernel choice ResNet and `quern bench kernels` share: Winograd
    /// exactly for stride-1 3×3 windows, the direct kernel otherwise, each
    /// giving what it gives on its own (both are checked against the
    /// reference above).
    @Test(arguments: ConvReference.cases + winogradCases)
    func preparedConvolutionPicksTheKernelResNetRuns(c: ConvReference.Case) {
        let window = c.window
        let weight = tensor([c.out, c.input[1], c.kernel.0, c.kernel.1], seed: 41), bias = tensor([c.out], seed: 42)
        let x = Self.nhwc(tensor(c.input, seed: 43))
        let prepared = PreparedConvolution(weight: weight, bias: bias, window: window)
        #expect(prepared.window == window && prepared.inputChannels == c.input[1] && prepared.outputChannels == c.out)
        let alone: Tensor
        if c.kernel == (3, 3) && c.stride == (1, 1) && c.dilation == (1, 1) {
            guard case .winograd = prepared else { Issue.record("\(c) should run on Winograd"); return }
            alone = conv2dNHWC(x, WinogradConvolution(weight: weight, bias: bias, window: window), relu: true)
        } else {
            guard case .direct = prepared else { Issue.record("\(c) should run on the direct kernel"); return }
            alone = conv2dNHWC(x, PackedConvolution(weight: weight, bias: bias, window: window), relu: true)
        }
        #expect(prepared(x, relu: true).scalars == alone.scalars, "\(c)")
    }

    @Test func layoutConversionMatchesPermute() {
        for shape in [[2, 3, 5, 7], [1, 37, 4, 4], [1, 1, 1, 1], [0, 3, 2, 2]] {
            let x = tensor(shape, seed: 26)
            let converted = nchwToNHWC(x)
            #expect(converted.shape == [shape[0], shape[2], shape[3], shape[1]])
            #expect(converted.scalars == permute(x, [0, 2, 3, 1]).scalars)
        }
    }

    @Test func poolsMatchTheNCHWPools() {
        let x = tensor([2, 37, 9, 8], seed: 25)
        for window in [Window2D(kernel: 3, stride: 2, padding: 1), Window2D(kernel: (3, 3), stride: (2, 2), padding: (0, 0, 1, 1))] {
            #expect(Self.nchw(maxPool2dNHWC(Self.nhwc(x), window: window)).scalars == maxPool2d(x, window: window).scalars)
        }
        expectClose(globalAveragePoolNHWC(Self.nhwc(x)).scalars, Reference.values(globalAveragePool(x)))
        let whole = Window2D(kernel: (9, 8))
        expectClose(averagePoolSingleWindowNHWC(Self.nhwc(x), window: whole, countIncludePad: false).scalars, Reference.values(globalAveragePool(x)))
        let padded = Window2D(kernel: (3, 3), stride: (3, 3), padding: (1, 1, 0, 0))
        for includePad in [true, false] {
            let reference = avgPool2d(x, window: padded, countIncludePad: includePad)
            let firstWindow = (0..<(2 * 37)).map { reference[flat: $0 * reference.shape[2] * reference.shape[3]] }
            expectClose(averagePoolSingleWindowNHWC(Self.nhwc(x), window: padded, countIncludePad: includePad).scalars, firstWindow.map(Double.init))
        }
    }
}
