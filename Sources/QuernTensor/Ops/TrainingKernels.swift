#if canImport(Glibc)
import Glibc
#endif

/// The element-wise and reduction kernels a training step needs around its
/// GEMMs: gathering a mini-batch, bias gradients, activation derivatives and
/// dropout. Each is deterministic whatever the thread count: work is split
/// only where every element is computed independently, and reductions run
/// in one fixed order.

private let trainingGrain = 1 << 14

/// Copies rows `indices` of `source` [N, D] into rows 0..<indices.count of
/// `destination` [M ≥ indices.count, D] (a mini-batch from a shuffled order).
public func gatherRows(_ source: Tensor, indices: [Int], into destination: Tensor) {
    precondition(source.rank == 2 && destination.rank == 2 && source.shape[1] == destination.shape[1],
                 "gatherRows: rows of \(source.shape) into \(destination.shape)")
    precondition(indices.count <= destination.shape[0], "gatherRows: \(indices.count) rows into \(destination.shape)")
    let rows = source.shape[0], width = source.shape[1]
    for index in indices { precondition(index >= 0 && index < rows, "gatherRows: row \(index) outside 0..<\(rows)") }
    if width == 0 { return }
    source.withPointer { from in
        destination.withMutablePointer { to in
            for (row, index) in indices.enumerated() {
                (to + row * width).update(from: from + index * width, count: width)
            }
        }
    }
}

/// sums[c] = Σ_r matrix[r, c] for a matrix [R, C] (a bias gradient: the
/// output gradient summed over the batch). Rows are added in order, so the
/// result does not depend on the thread count.
public func columnSums(_ matrix: Tensor, into sums: Tensor) {
    precondition(matrix.rank == 2 && sums.count == matrix.shape[1], "columnSums: \(matrix.shape) into \(sums.shape)")
    let rows = matrix.shape[0], width = matrix.shape[1]
    sums.withMutablePointer { out in
        out.update(repeating: 0, count: width)
        matrix.withPointer { m in
            for r in 0..<rows {
                let row = m + r * width
                var c = 0
                while c + 16 <= width {
                    BlockKernels.store16(BlockKernels.load16(out + c) + BlockKernels.load16(row + c), out + c)
                    c += 16
                }
                while c < width {
                    out[c] += row[c]
                    c += 1
                }
            }
        }
    }
}

/// gradient ∘= 1[z > 0]: ReLU's backward pass given its input `z`. At
/// exactly 0 the derivative is taken as 0, as PyTorch's threshold_backward does.
public func reluBackward(preActivation z: Tensor, gradient: Tensor) {
    precondition(z.count == gradient.count, "reluBackward: \(z.shape) and \(gradient.shape)")
    z.withPointer { pz in
        gradient.withMutablePointer { pg in
            parallelFor(z.count, grain: trainingGrain) { range in
                var i = range.lowerBound
                while i + 16 <= range.upperBound {
                    let g = BlockKernels.load16(pg + i)
                    BlockKernels.store16(g.replacing(with: 0, where: BlockKernels.load16(pz + i) .<= 0), pg + i)
                    i += 16
                }
                while i < range.upperBound {
                    if pz[i] <= 0 { pg[i] = 0 }
                    i += 1
                }
            }
        }
    }
}

private let sqrtHalf: Float = 0.707_106_781_186_547_5
private let inverseSqrtTwoPi: Float = 0.398_942_280_401_432_7

/// gradient ∘= GELU′(z) for the erf form x·Φ(x): Φ(z) + z·φ(z), with φ the
/// standard normal density. Same erf and exp approximations as the forward.
public func geluErfBackward(preActivation z: Tensor, gradient: Tensor) {
    precondition(z.count == gradient.count, "geluErfBackward: \(z.shape) and \(gradient.shape)")
    z.withPointer { pz in
        gradient.withMutablePointer { pg in
            parallelFor(z.count, grain: trainingGrain) { range in
                var i = range.lowerBound
                while i + 16 <= range.upperBound {
                    let v = BlockKernels.load16(pz + i)
                    let cdf = 0.5 * (1 + VectorMath.erf(v * sqrtHalf))
                    let density = inverseSqrtTwoPi * VectorMath.exp(-0.5 * v * v)
                    BlockKernels.store16(BlockKernels.load16(pg + i) * (cdf + v * density), pg + i)
                    i += 16
                }
                while i < range.upperBound {
                    let v = pz[i]
                    let cdf = 0.5 * (1 + Glibc.erff(v * sqrtHalf))
                    let density = inverseSqrtTwoPi * Glibc.expf(-0.5 * v * v)
                    pg[i] *= cdf + v * density
                    i += 1
                }
            }
        }
    }
}

/// Inverted dropout in place: each value of `x` is zeroed with
/// `probability` p, otherwise scaled by 1/(1 − p), so the expected value is
/// unchanged and evaluation needs no rescaling. `mask` [same count] receives
/// the factor applied to each value (0 or 1/(1 − p)) for the backward pass.
///
/// One 32-bit uniform draw per value, two per generator step, in element
/// order: the same generator state gives the same mask on any thread count.
public func dropoutInPlace(_ x: Tensor, probability: Float, mask: Tensor, generator: inout SeededGenerator) {
    precondition(probability >= 0 && probability < 1, "dropout probability \(probability) outside [0, 1)")
    precondition(mask.count == x.count, "dropout: mask \(mask.shape) for \(x.shape)")
    let keep = 1 / (1 - probability)
    // A value survives when its draw u (uniform in 0..<2³²) is ≥ p·2³².
    let threshold = UInt64((Double(probability) * 4_294_967_296).rounded(.up))
    let count = x.count
    // Two passes: the draws (a serial chain through the generator) fill
    // the mask with selects, not branches — which values drop is random, so
    // a branch would be mispredicted half the time; then x ∘= mask in SIMD.
    mask.withMutablePointer { pm in
        var i = 0
        while i + 1 < count {
            let bits = generator.next()
            pm[i] = bits & 0xFFFF_FFFF >= threshold ? keep : 0
            pm[i + 1] = bits >> 32 >= threshold ? keep : 0
            i += 2
        }
        if i < count { pm[i] = generator.next() & 0xFFFF_FFFF >= threshold ? keep : 0 }
    }
    x.multiplyInPlace(mask)
}
