#if canImport(Glibc)
import Glibc
#endif

/// Vectorised transcendental functions for the activations, accurate to a
/// few float ulps (checked against double precision in the tests).
enum VectorMath {
    /// Clamps by compare-and-blend: the standard library's
    /// `clamped(lowerBound:upperBound:)` compiles to a per-lane loop.
    @inline(__always)
    static func clamp(_ x: SIMD16<Float>, _ low: Float, _ high: Float) -> SIMD16<Float> {
        let lower = SIMD16<Float>(repeating: low), upper = SIMD16<Float>(repeating: high)
        return x.replacing(with: lower, where: x .< lower).replacing(with: upper, where: x .> upper)
    }

    /// e^x. Cody–Waite range reduction to r in [-ln2/2, ln2/2], Cephes'
    /// degree-6 polynomial for e^r, and 2^n built in the exponent bits.
    /// Below -87.3 the result is 0, so -inf (a masked score) gives exactly 0.
    @inline(__always)
    static func exp(_ x: SIMD16<Float>) -> SIMD16<Float> {
        let clamped = clamp(x, -87.3, 88.7)
        // Adding 1.5·2²³ rounds x·log2(e) to the nearest whole number n and
        // leaves n in the low mantissa bits, so neither `rounded` nor a
        // float → integer conversion (both slow per-lane code) is needed.
        let shifted = clamped * 1.442_695_04 + 12_582_912
        let n = shifted - 12_582_912
        var r = clamped - n * 0.693_359_375
        r = r + n * 2.121_944_4e-4
        var p = SIMD16<Float>(repeating: 1.987_569_15e-4)
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_6e-2
        p = p * r + 1.666_666_55e-1
        p = p * r + 5.000_000_1e-1
        p = p * (r * r) + r + 1
        let exponent = (unsafeBitCast(shifted, to: SIMD16<UInt32>.self) &- 0x4B40_0000 &+ 127) &<< 23
        let result = p * unsafeBitCast(exponent, to: SIMD16<Float>.self)
        return result.replacing(with: 0, where: x .< -87.3)
    }

    /// erf(x) as a rational function of x² on [-4, 4] (the approximation
    /// XLA and Eigen use for float32); |x| ≥ 4 saturates at ±1.
    @inline(__always)
    static func erf(_ x: SIMD16<Float>) -> SIMD16<Float> {
        let v = clamp(x, -4, 4)
        let v2 = v * v
        var p = SIMD16<Float>(repeating: -2.726_142_3e-10)
        p = p * v2 + 2.770_681_4e-08
        p = p * v2 + -2.101_024_1e-06
        p = p * v2 + -5.692_506_4e-05
        p = p * v2 + -7.349_906_3e-04
        p = p * v2 + -2.954_600_0e-03
        p = p * v2 + -1.609_603_3e-02
        p = p * v
        var q = SIMD16<Float>(repeating: -1.456_607_2e-05)
        q = q * v2 + -2.133_740_6e-04
        q = q * v2 + -1.682_827_0e-03
        q = q * v2 + -7.373_329_2e-03
        q = q * v2 + -1.426_473_9e-02
        return p / q
    }

    /// tanh(x) = (1 - e^{-2|x|}) / (1 + e^{-2|x|}) with the sign restored, so
    /// nothing overflows; below |x| = 0.05 a short series avoids cancellation.
    @inline(__always)
    static func tanh(_ x: SIMD16<Float>) -> SIMD16<Float> {
        let a = x.replacing(with: -x, where: x .< 0)
        let e = exp(-2 * a)
        var t = (1 - e) / (1 + e)
        // For tiny |x|, (1 - e) loses digits: use x - x³/3 + 2x⁵/15.
        let a2 = a * a
        var series = SIMD16<Float>(repeating: -17.0 / 315)
        series = series * a2 + (2.0 / 15)
        series = series * a2 + (-1.0 / 3)
        series = series * a2 + 1
        series = series * a
        t = t.replacing(with: series, where: a .< 0.05)
        return t.replacing(with: -t, where: x .< 0)
    }
}

private let sqrtHalf: Float = 0.707_106_781_186_547_5
private let sqrtTwoOverPi: Float = 0.797_884_560_802_865_4

/// GELU, erf form: x · Φ(x) = 0.5 x (1 + erf(x / √2)) (BERT, Whisper).
public func geluErf(_ x: Tensor) -> Tensor {
    let out = Tensor(zeros: x.shape)
    geluErf(x, into: out)
    return out
}

public func geluErf(_ x: Tensor, into out: Tensor) {
    mapUnary(x, into: out,
             simd: { v in 0.5 * v * (1 + VectorMath.erf(v * sqrtHalf)) },
             scalar: { v in 0.5 * v * (1 + Glibc.erff(v * sqrtHalf)) })
}

/// GELU, tanh form: 0.5 x (1 + tanh(√(2/π)(x + 0.044715 x³))) (GPT-2's gelu_new).
public func geluTanh(_ x: Tensor) -> Tensor {
    let out = Tensor(zeros: x.shape)
    mapUnary(x, into: out,
             simd: { v in 0.5 * v * (1 + VectorMath.tanh(sqrtTwoOverPi * (v + 0.044715 * v * v * v))) },
             scalar: { v in 0.5 * v * (1 + Glibc.tanhf(sqrtTwoOverPi * (v + 0.044715 * v * v * v))) })
    return out
}

/// SiLU (swish): x · σ(x).
public func silu(_ x: Tensor) -> Tensor {
    let out = Tensor(zeros: x.shape)
    mapUnary(x, into: out,
             simd: { v in v / (1 + VectorMath.exp(-v)) },
             scalar: { v in v / (1 + Glibc.expf(-v)) })
    return out
}

/// ReLU: max(x, 0).
public func relu(_ x: Tensor) -> Tensor {
    let out = Tensor(zeros: x.shape)
    reluInPlace(x, into: out)
    return out
}

public func reluInPlace(_ x: Tensor, into out: Tensor? = nil) {
    mapUnary(x, into: out ?? x,
             simd: { v in v.replacing(with: 0, where: v .< 0) },
             scalar: { v in max(v, 0) })
}

/// tanh, element-wise.
public func tanh(_ x: Tensor) -> Tensor {
    let out = Tensor(zeros: x.shape)
    mapUnary(x, into: out, simd: VectorMath.tanh, scalar: { Glibc.tanhf($0) })
    return out
}

/// SwiGLU's gate: silu(gate) · up, in one pass.
public func siluMultiply(_ gate: Tensor, _ up: Tensor) -> Tensor {
    precondition(gate.count == up.count, "siluMultiply: \(gate.shape) vs \(up.shape)")
    let out = Tensor(zeros: gate.shape)
    gate.withPointer { g in
        up.withPointer { u in
            out.withMutablePointer { o in
                parallelFor(gate.count, grain: 1 << 14) { range in
                    var i = range.lowerBound
                    while i + 16 <= range.upperBound {
                        let v = BlockKernels.load16(g + i)
                        BlockKernels.store16(v / (1 + VectorMath.exp(-v)) * BlockKernels.load16(u + i), o + i)
                        i += 16
                    }
                    while i < range.upperBound {
                        o[i] = g[i] / (1 + Glibc.expf(-g[i])) * u[i]
                        i += 1
                    }
                }
            }
        }
    }
    return out
}
