import QuernTensor
import Testing

/// The bfloat16 products (CQuernKernels/conv_bf16.c) against the
/// definition computed here in double precision, and the native
/// AVX512-BF16 path against the emulations, bit for bit.
@Suite(.serialized) struct BFloat16Tests {
    /// float32 → bfloat16 → float32 by the definition: round to nearest
    /// even, denormals to a signed zero (as VCVTNEPS2BF16 does).
    static func rounded(_ value: Float) -> Float {
        let bits = value.bitPattern
        if bits & 0x7F80_0000 == 0 { return Float(bitPattern: bits & 0x8000_0000) }
        let roundedBits = (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) & 0xFFFF_0000
        return Float(bitPattern: roundedBits)
    }

    @Test func roundingFollowsTheDefinition() {
        let values: [Float] = [1, -1, 1 + 1.0 / 256, 1 + 3.0 / 256, 1 + 1.0 / 512, 1 + 3.0 / 512, 3.14159265, -2.7182818, 65504, 1e-30,
                               Float.leastNormalMagnitude, Float.leastNonzeroMagnitude, -Float.leastNonzeroMagnitude,
                               Float.greatestFiniteMagnitude, 0, -0.0, .infinity, -.infinity]
        let input = Tensor(vector: values)
        for variant in ["avx512", "avx2", "scalar"] {
            guard QuantKernels.force(variant) else { continue }
            defer { QuantKernels.force("auto") }
            let roundedValues = BFloat16Buffer.roundedValues(of: input)
            for (index, value) in values.enumerated() {
                #expect(roundedValues[index].bitPattern == Self.rounded(value).bitPattern, "\(variant): \(value)")
            }
        }
        // Ties go to even: 1 + 2⁻⁸ lies halfway between 1 and 1 + 2⁻⁷.
        #expect(Self.rounded(1 + 1.0 / 256) == 1 && Self.rounded(1 + 3.0 / 256) == 1 + 4.0 / 256)
        let nan = BFloat16Buffer.roundedValues(of: Tensor(vector: [.nan]))
        #expect(nan[0].isNaN)
    }

    static let cases: [ConvReference.Case] = [
        // Direct: a ResNet-style stride-2 3×3, and pixels past whole tiles.
        .init(input: [2, 32, 9, 11], out: 40, kernel: (3, 3), stride: (2, 2), padding: (1, 1, 1, 1), dilation: (1, 1), bias: true),
        // 1×1 (no table) with a partial panel, and a strided 1×1 projection.
        .init(input: [1, 24, 7, 5], out: 70, kernel: (1, 1), stride: (1, 1), padding: (0, 0, 0, 0), dilation: (1, 1), bias: true),
        .init(input: [2, 64, 8, 8], out: 32, kernel: (1, 1), stride: (2, 2), padding: (0, 0, 0, 0), dilation: (1, 1), bias: false),
        // Stems that read whole kernel rows: 7·3 = 21 values (padded to 22), and 3·4 = 12.
        .init(input: [2, 3, 23, 19], out: 64, kernel: (7, 7), stride: (2, 2), padding: (3, 3, 3, 3), dilation: (1, 1), bias: true),
        .init(input: [1, 4, 9, 8], out: 8, kernel: (3, 3), stride: (1, 2), padding: (1, 0, 1, 2), dilation: (1, 1), bias: true),
        // Tiles of 1, 4 and 8 pixels.
        .init(input: [1, 16, 1, 1], out: 33, kernel: (1, 1), stride: (1, 1), padding: (0, 0, 0, 0), dilation: (1, 1), bias: true),
        .init(input: [1, 16, 2, 2], out: 33, kernel: (3, 3), stride: (2, 2), padding: (1, 1, 1, 1), dilation: (1, 1), bias: true),
        .init(input: [1, 18, 2, 4], out: 16, kernel: (1, 1), stride: (1, 1), padding: (0, 0, 0, 0), dilation: (1, 1), bias: true),
    ]

    /// Direct and 1×1 convolutions: the double-precision sum over the
    /// bfloat16-rounded inputs and weights, within float32 accumulation error,
    /// with the residual and ReLU in the epilogue; the same bits on every path.
    @Test(arguments: cases)
    func convolutionMatchesTheDefinitionOnEveryPath(c: ConvReference.Case) {
        let window = c.window
        let x = tensor(c.input, seed: 51), w = tensor([c.out, c.input[1], c.kernel.0, c.kernel.1], seed: 52)
        let b = c.bias ? tensor([c.out], seed: 53) : nil
        let roundedX = Reference.values(x).map { Double(Self.rounded(Float($0))) }
        let roundedW = Reference.values(w).map { Double(Self.rounded(Float($0))) }
        let ref = ConvReference.conv(roundedX, c.input, roundedW, w.shape, b.map(Reference.values), window)
        let packed = PackedConvolution(weight: w, bias: b, window: window, precision: .bfloat16)
        #expect(packed.precision == .bfloat16)
        let residual = tensor(ref.shape, seed: 54)
        var firstBits: [UInt32]?
        for variant in ["avx512", "avx2", "scalar"] {
            guard QuantKernels.force(variant) else { continue }
            defer { QuantKernels.force("auto") }
            let y = ConvolutionNHWCTests.nchw(conv2dNHWC(ConvolutionNHWCTests.nhwc(x), packed, relu: false))
            expectClose(y.scalars, ref.values, scale: ref.scale, "\(variant) \(c)")
            let fused = ConvolutionNHWCTests.nchw(conv2dNHWC(ConvolutionNHWCTests.nhwc(x), packed,
                                                             residual: ConvolutionNHWCTests.nhwc(residual), relu: true))
            let expected = zip(ref.values, Reference.values(residual)).map { max($0 + $1, 0) }
            expectClose(fused.scalars, expected, scale: zip(ref.scale, Reference.values(residual)).map { $0 + abs($1) }, "\(variant) fused \(c)")
            let bits = y.scalars.map(\.bitPattern) + fused.scalars.map(\.bitPattern)
            if let firstBits { #expect(bits == firstBits, "\(variant) differs from the native path: \(c)") } else { firstBits = bits }
        }
    }

    /// Winograd in bfloat16 rounds the transformed input and weights, so it
    /// is held to bfloat16's precision against the exact convolution, and
    /// to the same bits on every path.
    @Test func winogradStaysWithinBFloat16Precision() {
        for c in ConvolutionNHWCTests.winogradCases where c.input[1] % 2 == 0 {
            let window = c.window
            let x = tensor(c.input, seed: 61), w = tensor([c.out, c.input[1], 3, 3], seed: 62), b = tensor([c.out], seed: 63)
            let ref = ConvReference.conv(Reference.values(x), c.input, Reference.values(w), w.shape, Reference.values(b), window)
            let prepared = WinogradConvolution(weight: w, bias: b, window: window, precision: .bfloat16)
            #expect(prepared.precision == .bfloat16)
            var firstBits: [UInt32]?
            for variant in ["avx512", "avx2", "scalar"] {
                guard QuantKernels.force(variant) else { continue }
                defer { QuantKernels.force("auto") }
                let y = ConvolutionNHWCTests.nchw(conv2dNHWC(ConvolutionNHWCTests.nhwc(x), prepared, relu: false))
                expectClose(y.scalars, ref.values, tolerance: 2e-2, scale: ref.scale, "winograd \(variant) \(c)")
                if let firstBits { #expect(y.scalars.map(\.bitPattern) == firstBits, "\(variant): \(c)") } else { firstBits = y.scalars.map(\.bitPattern) }
            }
        }
    }

    /// Odd channel counts that are not read by kernel rows stay float32 (and say so).
    @Test func shapesThatCannotPairStayFloat32() {
        let odd = PackedConvolution(weight: tensor([8, 5, 1, 1], seed: 1), bias: nil, window: Window2D(kernel: 1), precision: .bfloat16)
        #expect(odd.precision == .float32)
        let dilated = PreparedConvolution(weight: tensor([8, 3, 3, 3], seed: 2), bias: nil,
                                          window: Window2D(kernel: (3, 3), stride: (1, 1), padding: (1, 1, 1, 1), dilation: (1, 2)),
                                          precision: .bfloat16)
        #expect(dilated.precision == .float32)
        let even = PreparedConvolution(weight: tensor([8, 16, 3, 3], seed: 3), bias: nil, window: Window2D(kernel: 3, stride: 1, padding: 1),
                                       precision: .bfloat16)
        #expect(even.precision == .bfloat16)
        // Half the bytes of float32 (the bias stays float32).
        let float32 = PreparedConvolution(weight: tensor([64, 64, 1, 1], seed: 4), bias: nil, window: Window2D(kernel: 1))
        let bfloat16 = PreparedConvolution(weight: tensor([64, 64, 1, 1], seed: 4), bias: nil, window: Window2D(kernel: 1), precision: .bfloat16)
        #expect(bfloat16.residentBytes - 64 * 4 == (float32.residentBytes - 64 * 4) / 2)
    }

    /// A linear layer in bfloat16 against the definition, for 1 to 40 rows.
    @Test func linearMatchesTheDefinition() {
        let weight = tensor([70, 48], seed: 71), bias = tensor([70], seed: 72)
        let layer = BFloat16Linear(weight: weight, bias: bias)
        for rows in [1, 3, 12, 40] {
            let x = tensor([rows, 48], seed: 73 + UInt64(rows))
            let y = layer(x)
            #expect(y.shape == [rows, 70])
            let xs = Reference.values(x).map { Double(Self.rounded(Float($0))) }
            let ws = Reference.values(weight).map { Double(Self.rounded(Float($0))) }
            var expected: [Double] = [], scale: [Double] = []
            for r in 0..<rows {
                for o in 0..<70 {
                    var total = Double(bias[flat: o]), magnitude = abs(Double(bias[flat: o]))
                    for k in 0..<48 {
                        total += xs[r * 48 + k] * ws[o * 48 + k]
                        magnitude += abs(xs[r * 48 + k] * ws[o * 48 + k])
                    }
                    expected.append(total)
                    scale.append(magnitude)
                }
            }
            expectClose(y.scalars, expected, scale: scale, "rows \(rows)")
        }
    }
}
