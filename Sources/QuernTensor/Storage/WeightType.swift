/// How a weight matrix is stored. The quantised types are GGML's block
/// formats, byte for byte as GGUF files hold them (ggml-common.h):
///
/// - `q8_0`: 32 values in 34 bytes: f16 scale `d`, then 32 × int8 `q`;
///   value = d · q.
/// - `q4_0`: 32 values in 18 bytes: f16 `d`, then 16 bytes whose low nibbles
///   are values 0–15 and high nibbles values 16–31; value = d · (nibble − 8).
/// - `q4_1`: 32 values in 20 bytes: f16 `d`, f16 minimum `m`, then 16 bytes of
///   nibbles as in q4_0; value = d · nibble + m.
public enum WeightType: String, Sendable, CaseIterable {
    case f32, f16, bf16, q8_0, q4_0, q4_1

    /// Values per block (1 for the plain float types).
    public var blockValues: Int {
        switch self {
        case .f32, .f16, .bf16: return 1
        case .q8_0, .q4_0, .q4_1: return 32
        }
    }

    /// Bytes per block.
    public var blockBytes: Int {
        switch self {
        case .f32: return 4
        case .f16, .bf16: return 2
        case .q8_0: return 34
        case .q4_0: return 18
        case .q4_1: return 20
        }
    }

    public var isQuantized: Bool { blockValues > 1 }

    /// Bytes for one row of `columns` values, or an error when the row is not
    /// a whole number of blocks.
    public func rowBytes(columns: Int) throws(TensorError) -> Int {
        guard columns >= 0, columns % blockValues == 0 else {
            throw .blockMisaligned(type: rawValue, columns: columns, blockSize: blockValues)
        }
        return columns / blockValues * blockBytes
    }
}

/// IEEE half and bfloat16 conversions.
public enum HalfFloat {
    @inline(__always)
    public static func float(fromHalf bits: UInt16) -> Float { Float(Float16(bitPattern: bits)) }

    @inline(__always)
    public static func half(from value: Float) -> UInt16 { Float16(value).bitPattern }

    @inline(__always)
    public static func float(fromBFloat16 bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }

    /// Round-to-nearest-even, as PyTorch converts; NaN stays NaN.
    @inline(__always)
    public static func bfloat16(from value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return UInt16(truncatingIfNeeded: bits >> 16) | 0x40 }
        let rounding = UInt32(0x7FFF) + ((bits >> 16) & 1)
        return UInt16(truncatingIfNeeded: (bits &+ rounding) >> 16)
    }
}
