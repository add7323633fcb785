import QuernTensor
import Testing

/// Blocks written byte by byte from the GGUF layout (ggml-common.h) and
/// their values computed by hand.
@Suite(.serialized) struct QuantTests {
    static func bytes(_ values: [UInt8]) -> UnsafeRawBufferPointer {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: values.count, alignment: 16)
        buffer.copyBytes(from: values)
        return UnsafeRawBufferPointer(buffer)
    }

    @Test func q8_0BlockByHand() throws {
        // d = 0.5 (f16 0x3800), q = 0, 1, -1, 2, -2, … , 127 at the end.
        var block: [UInt8] = [0x00, 0x38]
        var expected: [Float] = []
        for j in 0..<32 {
            let q: Int8 = j == 31 ? 127 : (j % 2 == 0 ? Int8(j / 2) : -Int8(j / 2 + 1))
            block.append(UInt8(bitPattern: q))
            expected.append(0.5 * Float(q))
        }
        let matrix = try WeightMatrix(type: .q8_0, rows: 1, columns: 32, bytes: Self.bytes(block), owner: nil)
        #expect(matrix.dequantized().scalars == expected)
        #expect(try matrix.gatherRows([0]).scalars == expected)
    }

    @Test func q4_0BlockByHand() throws {
        // d = 2 (f16 0x4000); byte j: low nibble = j, high nibble = 15 - j.
        var block: [UInt8] = [0x00, 0x40]
        for j in 0..<16 { block.append(UInt8(j) | UInt8(15 - j) << 4) }
        let low: [Float] = (0..<16).map { j in Float(2 * (j - 8)) }
        let high: [Float] = (0..<16).map { j in Float(2 * (7 - j)) }
        let expected = low + high
        let matrix = try WeightMatrix(type: .q4_0, rows: 1, columns: 32, bytes: Self.bytes(block), owner: nil)
        #expect(matrix.dequantized().scalars == expected)
    }

    @Test func q4_1BlockByHand() throws {
        // d = 0.25 (0x3400), m = -1.5 (0xBE00); byte j: low = j, high = (j * 7) % 16.
        var block: [UInt8] = [0x00, 0x34, 0x00, 0xBE]
        for j in 0..<16 { block.append(UInt8(j) | UInt8((j * 7) % 16) << 4) }
        let low: [Float] = (0..<16).map { j in 0.25 * Float(j) - 1.5 }
        let high: [Float] = (0..<16).map { j in 0.25 * Float((j * 7) % 16) - 1.5 }
        let expected = low + high
        let matrix = try WeightMatrix(type: .q4_1, rows: 1, columns: 32, bytes: Self.bytes(block), owner: nil)
        #expect(matrix.dequantized().scalars == expected)
    }

    @Test func layoutErrorsAreReported() {
        #expect(throws: TensorError.blockMisaligned(type: "q4_1", columns: 33, blockSize: 32)) {
            try WeightMatrix(type: .q4_1, rows: 1, columns: 33, bytes: Self.bytes([UInt8](repeating: 0, count: 40)), owner: nil)
        }
        #expect(throws: TensorError.self) {
            try WeightMatrix(type: .q8_0, rows: 2, columns: 32, bytes: Self.bytes([UInt8](repeating: 0, count: 34)), owner: nil)
        }
        let matrix = try? WeightMatrix(Tensor(zeros: [4, 32]), as: .q8_0)
        #expect(throws: TensorError.indexOutOfRange(index: 4, count: 4, what: "row")) { try matrix?.gatherRows([1, 4]) }
    }

    /// Quantising writes exactly the block bytes that decode to the values
    /// the layout defines (round trip through the stored bytes).
    @Test(arguments: [WeightType.q8_0, .q4_0, .q4_1, .f16, .bf16, .f32])
    func quantiseThenDecodeFollowsTheLayout(type: WeightType) throws {
        let source = tensor([3, 64], seed: 21)
        let matrix = try WeightMatrix(source, as: type)
        let decoded = matrix.dequantized().scalars
        for r in 0..<3 {
            let row = matrix.rowBytes(r)
            let manual = decodeByHand(type, row, columns: 64)
            #expect(Array(decoded[r * 64..<(r + 1) * 64]) == manual, "\(type) row \(r)")
        }
        // And the quantisation error is what the type allows.
        let bound: Float = [.q8_0: 0.01, .q4_0: 0.15, .q4_1: 0.08, .f16: 0.001, .bf16: 0.008, .f32: 0][type]!
        #expect(zip(decoded, source.scalars).allSatisfy { abs($0 - $1) <= bound })
    }

    func decodeByHand(_ type: WeightType, _ row: [UInt8], columns: Int) -> [Float] {
        func half(_ i: Int) -> Float { Float(Float16(bitPattern: UInt16(row[i]) | UInt16(row[i + 1]) << 8)) }
        var out: [Float] = []
        switch type {
        case .f32:
            for i in 0..<columns { out.append(Float(bitPattern: (0..<4).reduce(0) { $0 | UInt32(row[4 * i + $1]) << (8 * $1) })) }
        case .f16:
            for i in 0..<columns { out.append(half(2 * i)) }
        case .bf16:
            for i in 0..<columns { out.append(Float(bitPattern: (UInt32(row[2 * i]) | UInt32(row[2 * i + 1]) << 8) << 16)) }
        case .q8_0:
            for b in 0..<columns / 32 { for j in 0..<32 { out.append(half(34 * b) * Float(Int8(bitPattern: row[34 * b + 2 + j]))) } }
        case .q4_0:
            for b in 0..<columns / 32 {
                let d = half(18 * b)
                let q = row[18 * b + 2..<18 * b + 18]
                out += q.map { d * Float(Int($0 & 15) - 8) } + q.map { d * Float(Int($0 >> 4) - 8) }
            }
        case .q4_1:
            for b in 0..<columns / 32 {
                let d = half(20 * b), m = half(20 * b + 2)
                let q = row[20 * b + 4..<20 * b + 20]
                out += q.map { d * Float($0 & 15) + m } + q.map { d * Float($0 >> 4) + m }
            }
        }
        return out
    }

    /// y = W x against double precision on the dequantised weights, for row
    /// counts around the 16-row groups, both layouts and every kernel path.
    @Test(arguments: [WeightType.q4_1, .q4_0, .q8_0, .f16, .bf16, .f32])
    func matrixVectorMatchesDoubleReference(type: WeightType) throws {
        for variant in ["auto", "avx2", "scalar"] {
            guard QuantKernels.force(variant) else { continue }
            defer { QuantKernels.force("auto") }
            for (rows, columns) in [(1, 32), (15, 64), (16, 32), (17, 96), (50, 576), (0, 32), (5, 0)] {
                let weights = try WeightMatrix(tensor([rows, columns], seed: UInt64(rows * 7 + columns)), as: type)
                let dense = Reference.values(weights.dequantized())
                let x = tensor([columns], seed: 99, range: -2...2)
                let ref = Reference.matmul(dense, (rows, columns), transposeA: false, Reference.values(x), (columns, 1), transposeB: false)
                for matrix in [weights, weights.interleaved()] {
                    let y = matrix.multiply(vector: x)
                    expectClose(y.scalars, ref.values, scale: ref.scale, "\(type) \(rows)x\(columns) \(matrix.layout) \(variant)")
                }
            }
        }
    }

    @Test(arguments: [WeightType.q4_1, .q8_0, .f32, .f16])
    func batchedProductMatchesDoubleReference(type: WeightType) throws {
        let weights = try WeightMatrix(tensor([40, 64], seed: 31), as: type)
        let dense = Reference.values(weights.dequantized())
        for n in [1, 2, 9] {
            let x = tensor([n, 64], seed: UInt64(n))
            let ref = Reference.matmul(Reference.values(x), (n, 64), transposeA: false, dense, (40, 64), transposeB: true)
            for matrix in [weights, weights.interleaved()] {
                expectClose(matrix.multiply(x).scalars, ref.values, scale: ref.scale, "\(type) n=\(n) \(matrix.layout)")
            }
        }
    }

    /// Decoding several sequences together must not change any of them:
    /// each row of the batched product is the vector product, bit for bit,
    /// on every kernel path and for batch sizes around the 4-vector passes.
    @Test(arguments: [WeightType.q4_1, .q4_0, .q8_0, .f16, .f32])
    func eachRowProductIsTheVectorProductBitForBit(type: WeightType) throws {
        for variant in ["auto", "avx2", "scalar"] {
            guard QuantKernels.force(variant) else { continue }
            defer { QuantKernels.force("auto") }
            for (rows, columns) in [(50, 576), (16, 32), (37, 96)] {
                let matrix = try WeightMatrix(tensor([rows, columns], seed: UInt64(rows + columns)), as: type).interleaved()
                for n in [1, 2, 3, 4, 5, 8, 9] {
                    let x = tensor([n, columns], seed: UInt64(n * 13), range: -2...2)
                    let batched = matrix.multiply(eachRowOf: x)
                    #expect(batched.shape == [n, rows])
                    for i in 0..<n {
                        #expect(batched.row(i).scalars == matrix.multiply(vector: x.row(i).copy()).scalars, "\(type) \(rows)x\(columns) n=\(n) row \(i) \(variant)")
                    }
                }
            }
        }
    }

    @Test func interleavingKeepsEveryRow() throws {
        for type in [WeightType.q4_1, .q4_0, .q8_0] {
            let weights = try WeightMatrix(tensor([37, 96], seed: 5), as: type)
            let packed = weights.interleaved()
            #expect(packed.layout == .interleaved16)
            #expect(packed.dequantized().scalars == weights.dequantized().scalars)
            for r in [0, 15, 16, 31, 32, 36] { #expect(packed.rowBytes(r) == weights.rowBytes(r), "\(type) row \(r)") }
            #expect(try packed.gatherRows([36, 0, 17]).scalars == weights.gatherRows([36, 0, 17]).scalars)
        }
    }
}
