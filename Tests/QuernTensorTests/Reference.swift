import QuernTensor
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Straightforward double-precision references and comparison helpers.
enum Reference {
    static func values(_ t: Tensor) -> [Double] { t.scalars.map(Double.init) }

    /// C[m, n] = op(A) op(B) in double precision, with the error scale
    /// Σ|a||b| of each output (the bound a float dot product's error obeys).
    static func matmul(_ a: [Double], _ aShape: (Int, Int), transposeA: Bool, _ b: [Double], _ bShape: (Int, Int), transposeB: Bool)
        -> (values: [Double], scale: [Double])
    {
        let m = transposeA ? aShape.1 : aShape.0, k = transposeA ? aShape.0 : aShape.1
        let n = transposeB ? bShape.0 : bShape.1
        var c = [Double](repeating: 0, count: m * n), s = c
        for i in 0..<m {
            for j in 0..<n {
                var total = 0.0, magnitude = 0.0
                for p in 0..<k {
                    let x = transposeA ? a[p * aShape.1 + i] : a[i * aShape.1 + p]
                    let y = transposeB ? b[j * bShape.1 + p] : b[p * bShape.1 + j]
                    total += x * y
                    magnitude += abs(x * y)
                }
                c[i * n + j] = total
                s[i * n + j] = magnitude
            }
        }
        return (c, s)
    }
}

/// Expects |actual − expected| ≤ tolerance · max(scale, |expected|, 1e-30)
/// elementwise; `scale` defaults to |expected| (pure relative error) with a
/// floor of `absoluteFloor` for values near zero.
func expectClose(
    _ actual: [Float], _ expected: [Double], tolerance: Double = 1e-5, scale: [Double]? = nil, absoluteFloor: Double = 1e-6,
    _ what: String = "", sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(actual.count == expected.count, "\(what): \(actual.count) values, expected \(expected.count)", sourceLocation: sourceLocation)
    guard actual.count == expected.count else { return }
    var worst = 0.0, worstIndex = -1
    for i in actual.indices {
        let reference = max(scale?[i] ?? abs(expected[i]), abs(expected[i]), absoluteFloor)
        let error = abs(Double(actual[i]) - expected[i]) / reference
        if !(error <= worst) || error.isNaN {
            worst = error.isNaN ? .infinity : error
            worstIndex = i
        }
    }
    #expect(worst <= tolerance, "\(what): relative error \(worst) at \(worstIndex) (got \(worstIndex >= 0 ? actual[worstIndex] : 0), expected \(worstIndex >= 0 ? expected[worstIndex] : 0))", sourceLocation: sourceLocation)
}

/// Deterministic random floats for test inputs.
func randomValues(_ count: Int, seed: UInt64, range: ClosedRange<Float> = -1...1) -> [Float] {
    var generator = SeededGenerator(seed: seed)
    return (0..<count).map { _ in Float.random(in: range, using: &generator) }
}

func tensor(_ shape: [Int], seed: UInt64, range: ClosedRange<Float> = -1...1) -> Tensor {
    Tensor.random(shape, seed: seed, range: range)
}
