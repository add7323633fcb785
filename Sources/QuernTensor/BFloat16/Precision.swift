import CQuernKernels

/// The arithmetic a model's heavy products run in.
///
/// `float32` is the default and the reference: every result matches the
/// goldens. `bfloat16` stores the weights of the convolutions and linear
/// layers as bfloat16 (half the memory), rounds the activations to
/// bfloat16 at each product's input and accumulates in float32: about twice
/// the throughput on CPUs with AVX512-BF16, at a deviation the docs measure
/// per model. Everything else (normalisation, softmax, activations,
/// residual sums) stays float32.
public enum Precision: String, Sendable, CaseIterable, Hashable, Codable {
    case float32
    case bfloat16

    /// How `bfloat16` products run on this CPU: "avx512-bf16" (native
    /// VDPBF16PS) or an emulation with the same results ("avx2 (emulated)",
    /// "scalar (emulated)"), which is slower than float32.
    public static var bfloat16Path: String { String(cString: quern_bf16_path()) }

    /// Whether `bfloat16` runs on the CPU's own bfloat16 instructions.
    public static var bfloat16IsNative: Bool { quern_bf16_native() != 0 }
}

/// bfloat16 values in memory the tensor core owns: a model's repacked
/// weights, or an activation's rounded copy for one product. 64-byte aligned.
public final class BFloat16Buffer: @unchecked Sendable {
    let base: UnsafeMutablePointer<UInt16>
    public let count: Int

    /// Uninitialised storage for `count` values.
    init(count: Int) {
        self.count = count
        let raw = LargeBuffers.allocate(byteCount: max(count, 1) * 2, zeroed: false)
        base = raw.bindMemory(to: UInt16.self, capacity: max(count, 1))
    }

    /// `values` rounded to bfloat16 (on the compute threads when there are many).
    convenience init(rounding values: UnsafePointer<Float>, count: Int, slack: Int = 0) {
        self.init(count: count + slack)
        (base + count).update(repeating: 0, count: slack)
        let chunk = 1 << 16
        let base = self.base
        parallelFor((count + chunk - 1) / chunk, grain: 1) { chunks in
            for index in chunks {
                let first = index * chunk
                quern_bf16_round(values + first, base + first, min(chunk, count - first))
            }
        }
    }

    /// `tensor`'s values rounded to bfloat16, then `slack` zeros.
    static func rounding(_ tensor: Tensor, slack: Int = 0) -> BFloat16Buffer {
        tensor.withPointer { BFloat16Buffer(rounding: $0, count: tensor.count, slack: slack) }
    }

    deinit { LargeBuffers.deallocate(UnsafeMutableRawPointer(base), byteCount: max(count, 1) * 2) }

    /// Bytes held.
    public var byteCount: Int { count * 2 }

    /// Value `index` widened back to float32.
    public subscript(index: Int) -> Float {
        precondition(index >= 0 && index < count, "BFloat16Buffer: index \(index) outside 0..<\(count)")
        return quern_bf16_widen(base[index])
    }

    /// `tensor`'s values rounded to bfloat16 and widened back (for tests and fidelity checks).
    public static func roundedValues(of tensor: Tensor) -> [Float] {
        let buffer = rounding(tensor)
        return (0..<buffer.count).map { buffer[$0] }
    }

    func withPointer<R>(_ body: (UnsafePointer<UInt16>) throws -> R) rethrows -> R {
        defer { withExtendedLifetime(self) {} }
        return try body(base)
    }
}
