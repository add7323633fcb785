/// Float → block quantisation, following ggml's reference quantisers
/// (`quantize_row_q8_0_ref` and friends) so files Quern writes round-trip
/// with llama.cpp's.
enum Quantizer {
    static func quantize(_ type: WeightType, _ values: UnsafePointer<Float>, columns: Int, into row: UnsafeMutableRawPointer) {
        switch type {
        case .f32:
            row.copyMemory(from: values, byteCount: columns * 4)
        case .f16:
            for i in 0..<columns { row.storeBytes(of: HalfFloat.half(from: values[i]), toByteOffset: 2 * i, as: UInt16.self) }
        case .bf16:
            for i in 0..<columns { row.storeBytes(of: HalfFloat.bfloat16(from: values[i]), toByteOffset: 2 * i, as: UInt16.self) }
        case .q8_0:
            for b in 0..<columns / 32 {
                let x = values + b * 32
                let block = row + b * 34
                var amax: Float = 0
                for j in 0..<32 { amax = max(amax, abs(x[j])) }
                let d = amax / 127
                let inverse: Float = d != 0 ? 1 / d : 0
                block.storeBytes(of: HalfFloat.half(from: d), as: UInt16.self)
                for j in 0..<32 {
                    block.storeBytes(of: Int8((x[j] * inverse).rounded(.toNearestOrAwayFromZero)), toByteOffset: 2 + j, as: Int8.self)
                }
            }
        case .q4_0:
            for b in 0..<columns / 32 {
                let x = values + b * 32
                let block = row + b * 18
                // The value of largest magnitude, with its sign, maps to -8.
                var amax: Float = 0, extreme: Float = 0
                for j in 0..<32 where abs(x[j]) > amax {
                    amax = abs(x[j])
                    extreme = x[j]
                }
                let d = extreme / -8
                let inverse: Float = d != 0 ? 1 / d : 0
                block.storeBytes(of: HalfFloat.half(from: d), as: UInt16.self)
                for j in 0..<16 {
                    let low = min(15, UInt8(clamping: Int8(x[j] * inverse + 8.5)))
                    let high = min(15, UInt8(clamping: Int8(x[j + 16] * inverse + 8.5)))
                    block.storeBytes(of: low | (high << 4), toByteOffset: 2 + j, as: UInt8.self)
                }
            }
        case .q4_1:
            for b in 0..<columns / 32 {
                let x = values + b * 32
                let block = row + b * 20
                var lowest = Float.greatestFiniteMagnitude, highest = -Float.greatestFiniteMagnitude
                for j in 0..<32 {
                    lowest = min(lowest, x[j])
                    highest = max(highest, x[j])
                }
                let d = (highest - lowest) / 15
                let inverse: Float = d != 0 ? 1 / d : 0
                block.storeBytes(of: HalfFloat.half(from: d), as: UInt16.self)
                block.storeBytes(of: HalfFloat.half(from: lowest), toByteOffset: 2, as: UInt16.self)
                for j in 0..<16 {
                    let low = min(15, UInt8(clamping: Int8((x[j] - lowest) * inverse + 0.5)))
                    let high = min(15, UInt8(clamping: Int8((x[j + 16] - lowest) * inverse + 0.5)))
                    block.storeBytes(of: low | (high << 4), toByteOffset: 4 + j, as: UInt8.self)
                }
            }
        }
    }
}
