/// Σ a[i]·b[i] over `count` floats, 32 lanes at a time — the FP32 row kernel
/// of the matrix-vector code, for callers that walk their own buffers (FIR
/// filters). Both pointers must hold `count` floats.
public func vectorDot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
    BlockKernels.dotF32(a, b, count)
}
