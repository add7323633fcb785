#if canImport(Glibc)
import Glibc
#endif

/// Rotary position embedding. Checkpoints disagree on which dimensions form
/// a rotated pair, so the pairing is explicit:
/// - `interleaved`: (2i, 2i+1) — GGUF files from llama.cpp's converter, which
///   permutes the q/k rows of Llama checkpoints into this order;
/// - `halves`: (i, i + d/2) — Hugging Face `rotate_half` (and GPT-NeoX).
public struct RotaryEmbedding: Sendable {
    public enum Pairing: Sendable { case interleaved, halves }

    public let dimensions: Int
    public let base: Double
    public let pairing: Pairing
    let inverseFrequencies: [Double]

    /// `dimensions`: how many leading dimensions of each head rotate (even);
    /// `base`: θ (10000 for Llama 2, 100000 for SmolLM2).
    public init(dimensions: Int, base: Double, pairing: Pairing) {
        precondition(dimensions > 0 && dimensions % 2 == 0, "RoPE needs an even, positive dimension count")
        self.dimensions = dimensions
        self.base = base
        self.pairing = pairing
        // Angles in double precision: at positions in the thousands a float
        // angle is already off by ~1e-4 radians.
        inverseFrequencies = (0..<dimensions / 2).map { pow(base, -2 * Double($0) / Double(dimensions)) }
    }

    /// Rotates x [tokens, heads, headDim] in place; token t sits at position
    /// `startPosition + t`.
    public func apply(_ x: Tensor, startPosition: Int) {
        precondition(x.rank == 3 && x.shape[2] >= dimensions, "RoPE: input \(x.shape) needs [tokens, heads, ≥\(dimensions)]")
        let tokens = x.shape[0], heads = x.shape[1], headDim = x.shape[2]
        let half = dimensions / 2
        x.withMutablePointer { p in
            parallelFor(tokens, grain: 4) { range in
                var cosines = [Float](repeating: 0, count: half)
                var sines = [Float](repeating: 0, count: half)
                for t in range {
                    let position = Double(startPosition + t)
                    for i in 0..<half {
                        let angle = position * inverseFrequencies[i]
                        cosines[i] = Float(cos(angle))
                        sines[i] = Float(sin(angle))
                    }
                    for h in 0..<heads {
                        let v = p + (t * heads + h) * headDim
                        for i in 0..<half {
                            let (a, b) = pairing == .interleaved ? (2 * i, 2 * i + 1) : (i, i + half)
                            let x0 = v[a], x1 = v[b]
                            v[a] = x0 * cosines[i] - x1 * sines[i]
                            v[b] = x1 * cosines[i] + x0 * sines[i]
                        }
                    }
                }
            }
        }
    }
}
