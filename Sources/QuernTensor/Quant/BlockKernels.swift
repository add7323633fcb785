/// Dequantisation and dot-product kernels for one row of a `WeightType`.
///
/// Activations stay Float32: unlike llama.cpp, which rounds the vector to
/// 8 bits before a quantised product, these kernels expand the weights to
/// floats in registers, so the result is the exact product of the stored
/// weights and the activations (up to float summation order).
enum BlockKernels {
    @inline(__always)
    static func loadHalf(_ p: UnsafeRawPointer) -> Float {
        Float(Float16(bitPattern: p.loadUnaligned(as: UInt16.self)))
    }

    /// The 32 nibbles of a q4 block as floats: low nibbles are values 0–15,
    /// high nibbles values 16–31.
    ///
    /// Integer lanes become floats through the exponent bits: 0x4B000000 | n
    /// is the float 2²³ + n, exact for n < 2²³, so one OR and one subtraction
    /// replace the int → float conversion (which the standard library's
    /// generic SIMD initialiser does not compile to a single instruction).
    @inline(__always)
    static func nibbles(_ p: UnsafeRawPointer) -> (low: SIMD16<Float>, high: SIMD16<Float>) {
        let q = SIMD16<UInt32>(truncatingIfNeeded: p.loadUnaligned(as: SIMD16<UInt8>.self))
        let low = unsafeBitCast((q & 0x0F) | 0x4B00_0000, to: SIMD16<Float>.self) - 8_388_608
        let high = unsafeBitCast((q &>> 4) | 0x4B00_0000, to: SIMD16<Float>.self) - 8_388_608
        return (low, high)
    }

    /// 16 signed bytes as floats, by the same exponent trick around 1.5·2²³.
    @inline(__always)
    static func signedBytes(_ p: UnsafeRawPointer) -> SIMD16<Float> {
        let q = SIMD16<Int32>(truncatingIfNeeded: p.loadUnaligned(as: SIMD16<Int8>.self)) &+ 0x4B40_0000
        return unsafeBitCast(q, to: SIMD16<Float>.self) - 12_582_912
    }

    @inline(__always)
    static func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
    }

    @inline(__always)
    static func store16(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
    }

    /// Writes the `columns` values of one row to `out`.
    static func dequantize(_ type: WeightType, row: UnsafeRawPointer, columns: Int, into out: UnsafeMutablePointer<Float>) {
        switch type {
        case .f32:
            out.update(from: row.assumingMemoryBound(to: Float.self), count: columns)
        case .f16:
            for i in 0..<columns { out[i] = loadHalf(row + 2 * i) }
        case .bf16:
            for i in 0..<columns {
                out[i] = HalfFloat.float(fromBFloat16: (row + 2 * i).loadUnaligned(as: UInt16.self))
            }
        case .q8_0:
            for b in 0..<columns / 32 {
                let block = row + b * 34
                let d = loadHalf(block)
                for j in 0..<32 { out[b * 32 + j] = d * Float((block + 2 + j).load(as: Int8.self)) }
            }
        case .q4_0:
            for b in 0..<columns / 32 {
                let block = row + b * 18
                let d = SIMD16<Float>(repeating: loadHalf(block))
                let (low, high) = nibbles(block + 2)
                store16(d * (low - 8), out + b * 32)
                store16(d * (high - 8), out + b * 32 + 16)
            }
        case .q4_1:
            for b in 0..<columns / 32 {
                let block = row + b * 20
                let d = SIMD16<Float>(repeating: loadHalf(block))
                let m = SIMD16<Float>(repeating: loadHalf(block + 2))
                let (low, high) = nibbles(block + 4)
                store16(d * low + m, out + b * 32)
                store16(d * high + m, out + b * 32 + 16)
            }
        }
    }

    /// Σ row[i] · x[i]. `blockSums[b]` = Σ x[32b ..< 32b + 32], needed by the
    /// q4 types (their offsets multiply the block's sum of x); computed once
    /// per vector, not once per row.
    @inline(__always)
    static func dot(_ type: WeightType, row: UnsafeRawPointer, x: UnsafePointer<Float>, blockSums: UnsafePointer<Float>, columns: Int) -> Float {
        switch type {
        case .f32: return dotF32(row.assumingMemoryBound(to: Float.self), x, columns)
        case .f16: return dotF16(row, x, columns)
        case .bf16: return dotBF16(row, x, columns)
        case .q8_0: return dotQ8_0(row, x, columns / 32)
        case .q4_0: return dotQ4_0(row, x, blockSums, columns / 32)
        case .q4_1: return dotQ4_1(row, x, blockSums, columns / 32)
        }
    }

    @inline(__always)
    static func dotF32(_ a: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc0 = SIMD16<Float>(), acc1 = SIMD16<Float>()
        var i = 0
        while i + 32 <= n {
            acc0.addProduct(load16(a + i), load16(x + i))
            acc1.addProduct(load16(a + i + 16), load16(x + i + 16))
            i += 32
        }
        var total = (acc0 + acc1).sum()
        while i < n {
            total += a[i] * x[i]
            i += 1
        }
        return total
    }

    @inline(__always)
    static func dotF16(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD16<Float>()
        var i = 0
        while i + 16 <= n {
            let h = (row + 2 * i).loadUnaligned(as: SIMD16<Float16>.self)
            acc.addProduct(SIMD16<Float>(h), load16(x + i))
            i += 16
        }
        var total = acc.sum()
        while i < n {
            total += loadHalf(row + 2 * i) * x[i]
            i += 1
        }
        return total
    }

    @inline(__always)
    static func dotBF16(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD16<Float>()
        var i = 0
        while i + 16 <= n {
            let h = (row + 2 * i).loadUnaligned(as: SIMD16<UInt16>.self)
            let w = unsafeBitCast(SIMD16<UInt32>(truncatingIfNeeded: h) &<< 16, to: SIMD16<Float>.self)
            acc.addProduct(w, load16(x + i))
            i += 16
        }
        var total = acc.sum()
        while i < n {
            total += HalfFloat.float(fromBFloat16: (row + 2 * i).loadUnaligned(as: UInt16.self)) * x[i]
            i += 1
        }
        return total
    }

    @inline(__always)
    static func dotQ8_0(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ blocks: Int) -> Float {
        var acc = SIMD16<Float>()
        for b in 0..<blocks {
            let block = row + b * 34
            let q0 = signedBytes(block + 2)
            let q1 = signedBytes(block + 18)
            var t = q0 * load16(x + b * 32)
            t.addProduct(q1, load16(x + b * 32 + 16))
            acc.addProduct(t, SIMD16(repeating: loadHalf(block)))
        }
        return acc.sum()
    }

    @inline(__always)
    static func dotQ4_0(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ blockSums: UnsafePointer<Float>, _ blocks: Int) -> Float {
        var acc = SIMD16<Float>()
        var offsets: Float = 0
        for b in 0..<blocks {
            let block = row + b * 18
            let d = loadHalf(block)
            let (low, high) = nibbles(block + 2)
            var t = low * load16(x + b * 32)
            t.addProduct(high, load16(x + b * 32 + 16))
            acc.addProduct(t, SIMD16(repeating: d))
            offsets += d * blockSums[b]
        }
        return acc.sum() - 8 * offsets
    }

    @inline(__always)
    static func dotQ4_1(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ blockSums: UnsafePointer<Float>, _ blocks: Int) -> Float {
        var acc = SIMD16<Float>()
        var offsets: Float = 0
        for b in 0..<blocks {
            let block = row + b * 20
            let (low, high) = nibbles(block + 4)
            var t = low * load16(x + b * 32)
            t.addProduct(high, load16(x + b * 32 + 16))
            acc.addProduct(t, SIMD16(repeating: loadHalf(block)))
            offsets += loadHalf(block + 2) * blockSums[b]
        }
        return acc.sum() + offsets
    }
}
