/// Element-wise arithmetic with SIMD, split across the compute threads for
/// large tensors. Binary operations take equal shapes, or a right-hand side
/// whose values repeat along the leading dimensions (a bias over rows).

private let elementGrain = 1 << 14

@inline(__always)
private func forEachChunk(_ count: Int, _ body: (Int, Int) -> Void) {
    parallelFor(count, grain: elementGrain) { range in body(range.lowerBound, range.upperBound) }
}

/// out[i] = f(a[i]) with a SIMD body and a scalar tail.
@inline(__always)
func mapUnary(_ a: Tensor, into out: Tensor, simd: (SIMD16<Float>) -> SIMD16<Float>, scalar: (Float) -> Float) {
    precondition(a.count == out.count, "element counts differ: \(a.shape) and \(out.shape)")
    a.withPointer { pa in
        out.withMutablePointer { po in
            forEachChunk(a.count) { start, end in
                var i = start
                while i + 16 <= end {
                    BlockKernels.store16(simd(BlockKernels.load16(pa + i)), po + i)
                    i += 16
                }
                while i < end {
                    po[i] = scalar(pa[i])
                    i += 1
                }
            }
        }
    }
}

@inline(__always)
private func mapBinary(_ a: Tensor, _ b: Tensor, into out: Tensor, simd: (SIMD16<Float>, SIMD16<Float>) -> SIMD16<Float>, scalar: (Float, Float) -> Float) {
    precondition(a.count == out.count, "element counts differ: \(a.shape) and \(out.shape)")
    precondition(b.count == a.count || (b.count > 0 && a.count % b.count == 0 && a.lastDimension % b.count == 0) || (b.count == a.lastDimension),
                 "shapes \(a.shape) and \(b.shape) do not broadcast")
    if a.count == 0 { return }
    a.withPointer { pa in
        b.withPointer { pb in
            out.withMutablePointer { po in
                if b.count == a.count {
                    forEachChunk(a.count) { start, end in
                        var i = start
                        while i + 16 <= end {
                            BlockKernels.store16(simd(BlockKernels.load16(pa + i), BlockKernels.load16(pb + i)), po + i)
                            i += 16
                        }
                        while i < end {
                            po[i] = scalar(pa[i], pb[i])
                            i += 1
                        }
                    }
                } else {
                    let width = b.count
                    let rows = a.count / width
                    parallelFor(rows, grain: max(1, elementGrain / width)) { range in
                        for r in range {
                            let x = pa + r * width, y = po + r * width
                            var i = 0
                            while i + 16 <= width {
                                BlockKernels.store16(simd(BlockKernels.load16(x + i), BlockKernels.load16(pb + i)), y + i)
                                i += 16
                            }
                            while i < width {
                                y[i] = scalar(x[i], pb[i])
                                i += 1
                            }
                        }
                    }
                }
            }
        }
    }
}

public func add(_ a: Tensor, _ b: Tensor) -> Tensor {
    let out = Tensor(zeros: a.shape)
    mapBinary(a, b, into: out, simd: { $0 + $1 }, scalar: { $0 + $1 })
    return out
}

public func subtract(_ a: Tensor, _ b: Tensor) -> Tensor {
    let out = Tensor(zeros: a.shape)
    mapBinary(a, b, into: out, simd: { $0 - $1 }, scalar: { $0 - $1 })
    return out
}

public func multiply(_ a: Tensor, _ b: Tensor) -> Tensor {
    let out = Tensor(zeros: a.shape)
    mapBinary(a, b, into: out, simd: { $0 * $1 }, scalar: { $0 * $1 })
    return out
}

public func scale(_ a: Tensor, by factor: Float) -> Tensor {
    let out = Tensor(zeros: a.shape)
    mapUnary(a, into: out, simd: { $0 * factor }, scalar: { $0 * factor })
    return out
}

extension Tensor {
    /// self += other (same count, or broadcast over rows).
    public func addInPlace(_ other: Tensor) {
        mapBinary(self, other, into: self, simd: { $0 + $1 }, scalar: { $0 + $1 })
    }

    /// self *= other (same count, or broadcast over rows).
    public func multiplyInPlace(_ other: Tensor) {
        mapBinary(self, other, into: self, simd: { $0 * $1 }, scalar: { $0 * $1 })
    }

    public func scaleInPlace(by factor: Float) {
        mapUnary(self, into: self, simd: { $0 * factor }, scalar: { $0 * factor })
    }
}

/// Concatenates tensors along the last dimension; leading shapes must match.
public func concatenateLast(_ parts: [Tensor]) -> Tensor {
    precondition(!parts.isEmpty)
    let lead = Array(parts[0].shape.dropLast())
    let rows = parts[0].leadingCount
    let widths = parts.map(\.lastDimension)
    for part in parts { precondition(Array(part.shape.dropLast()) == lead, "concatenateLast: leading shapes differ") }
    let total = widths.reduce(0, +)
    let out = Tensor(zeros: lead + [total])
    out.withMutablePointer { po in
        var column = 0
        for (part, width) in zip(parts, widths) {
            part.withPointer { pp in
                for r in 0..<rows { (po + r * total + column).update(from: pp + r * width, count: width) }
            }
            column += width
        }
    }
    return out
}

/// Swaps the last two dimensions of a tensor of rank ≥ 2.
public func transposeLastTwo(_ a: Tensor) -> Tensor {
    precondition(a.rank >= 2)
    let rows = a.shape[a.rank - 2], columns = a.shape[a.rank - 1]
    let batch = a.count / max(rows * columns, 1)
    var shape = a.shape
    shape.swapAt(a.rank - 2, a.rank - 1)
    let out = Tensor(zeros: shape)
    if a.count == 0 { return out }
    a.withPointer { pa in
        out.withMutablePointer { po in
            for b in 0..<batch {
                let src = pa + b * rows * columns, dst = po + b * rows * columns
                // 32×32 tiles keep both sides in cache.
                var r0 = 0
                while r0 < rows {
                    var c0 = 0
                    while c0 < columns {
                        for r in r0..<min(rows, r0 + 32) {
                            for c in c0..<min(columns, c0 + 32) { dst[c * rows + r] = src[r * columns + c] }
                        }
                        c0 += 32
                    }
                    r0 += 32
                }
            }
        }
    }
    return out
}

/// Permutes dimensions: result dimension i is input dimension `order[i]`.
public func permute(_ a: Tensor, _ order: [Int]) -> Tensor {
    precondition(order.count == a.rank && Set(order) == Set(0..<a.rank), "permute: \(order) is not a permutation of \(a.rank) dimensions")
    let newShape = order.map { a.shape[$0] }
    let out = Tensor(zeros: newShape)
    if a.count == 0 { return out }
    var inStrides = [Int](repeating: 1, count: a.rank)
    for i in stride(from: a.rank - 2, through: 0, by: -1) { inStrides[i] = inStrides[i + 1] * a.shape[i + 1] }
    let strides = order.map { inStrides[$0] }
    let rank = a.rank
    a.withPointer { pa in
        out.withMutablePointer { po in
            var index = [Int](repeating: 0, count: rank)
            var source = 0
            for flat in 0..<a.count {
                po[flat] = pa[source]
                var d = rank - 1
                while d >= 0 {
                    index[d] += 1
                    source += strides[d]
                    if index[d] < newShape[d] { break }
                    source -= strides[d] * newShape[d]
                    index[d] = 0
                    d -= 1
                }
            }
        }
    }
    return out
}
