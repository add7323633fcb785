extension Tensor {
    /// A copy of columns `range` of the last dimension, as [..., range.count]:
    /// the query, key or value part of a fused projection's output.
    public func columns(_ range: Range<Int>) -> Tensor {
        let width = lastDimension
        precondition(range.lowerBound >= 0 && range.upperBound <= width, "columns \(range) outside 0..<\(width) of \(shape)")
        let rows = leadingCount, part = range.count
        let out = Tensor(zeros: Array(shape.dropLast()) + [part])
        if rows == 0 || part == 0 { return out }
        withPointer { source in
            out.withMutablePointer { target in
                for r in 0..<rows { (target + r * part).update(from: source + r * width + range.lowerBound, count: part) }
            }
        }
        return out
    }
}
