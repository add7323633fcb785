/// A dense, row-major Float32 tensor.
///
/// A `Tensor` is a view — shape and offset — onto shared `TensorStorage`,
/// like a PyTorch tensor: `reshaped`, `rows` and `row` are free, and writes
/// through one view are seen by every view of the same storage. `copy()`
/// makes an independent tensor.
public struct Tensor: @unchecked Sendable, CustomStringConvertible {
    public private(set) var shape: [Int]
    public let storage: TensorStorage
    public let offset: Int
    public let count: Int

    /// A tensor of zeros. Shapes come from code (and from checkpoints that the
    /// loaders validated), so an impossible shape is a programming error.
    public init(zeros shape: [Int]) {
        let count: Int
        do { count = try elementCount(of: shape) } catch { preconditionFailure("\(error)") }
        self.shape = shape
        self.storage = TensorStorage(count: count)
        self.offset = 0
        self.count = count
    }

    /// A tensor whose values are not set: only for a tensor-core operation
    /// that writes every one of them before returning it (a convolution's
    /// output), where zeroing megabytes first would cost as much as a layer.
    init(overwrittenShape shape: [Int]) {
        let count: Int
        do { count = try elementCount(of: shape) } catch { preconditionFailure("\(error)") }
        self.shape = shape
        self.storage = TensorStorage(count: count, zeroed: false)
        self.offset = 0
        self.count = count
    }

    /// A tensor holding `values`, which must fill `shape` exactly.
    public init(shape: [Int], values: [Float]) throws(TensorError) {
        let count = try elementCount(of: shape)
        guard count == values.count else {
            throw .countMismatch(shape: shape, expected: count, actual: values.count)
        }
        self.init(zeros: shape)
        values.withUnsafeBufferPointer { source in
            if count > 0 { storage.base.update(from: source.baseAddress!, count: count) }
        }
    }

    /// A 1-D tensor holding `values` (cannot fail: the shape is the count).
    public init(vector values: [Float]) {
        self.init(zeros: [values.count])
        values.withUnsafeBufferPointer { source in
            if let base = source.baseAddress, !values.isEmpty { storage.base.update(from: base, count: values.count) }
        }
    }

    /// A tensor of `shape` filled with `value`.
    public init(repeating value: Float, shape: [Int]) {
        self.init(zeros: shape)
        storage.base.update(repeating: value, count: count)
    }

    init(storage: TensorStorage, offset: Int, shape: [Int]) {
        self.storage = storage
        self.offset = offset
        self.shape = shape
        self.count = shape.reduce(1, *)
    }

    public var rank: Int { shape.count }

    /// The values, copied out in row-major order.
    public var scalars: [Float] {
        Array(UnsafeBufferPointer(start: storage.base + offset, count: count))
    }

    public subscript(flat index: Int) -> Float {
        get {
            precondition(index >= 0 && index < count, "flat index \(index) outside 0..<\(count)")
            return storage.base[offset + index]
        }
        nonmutating set {
            precondition(index >= 0 && index < count, "flat index \(index) outside 0..<\(count)")
            storage.base[offset + index] = newValue
        }
    }

    /// The same values under another shape of the same element count.
    /// One dimension may be -1 and is then inferred.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var resolved = newShape
        if let unknown = newShape.firstIndex(of: -1) {
            let known = newShape.enumerated().filter { $0.offset != unknown }.map(\.element).reduce(1, *)
            precondition(known > 0 && count % known == 0, "cannot reshape \(shape) to \(newShape)")
            resolved[unknown] = count / known
        }
        precondition(resolved.allSatisfy { $0 >= 0 } && resolved.reduce(1, *) == count,
                     "cannot reshape \(shape) to \(newShape)")
        return Tensor(storage: storage, offset: offset, shape: resolved)
    }

    /// A view of rows `range` along the first dimension.
    public func rows(_ range: Range<Int>) -> Tensor {
        precondition(rank >= 1 && range.lowerBound >= 0 && range.upperBound <= shape[0],
                     "rows \(range) outside 0..<\(shape.first ?? 0) of \(shape)")
        let rowSize = shape.dropFirst().reduce(1, *)
        var newShape = shape
        newShape[0] = range.count
        return Tensor(storage: storage, offset: offset + range.lowerBound * rowSize, shape: newShape)
    }

    /// Row `index` along the first dimension, with that dimension removed.
    public func row(_ index: Int) -> Tensor {
        precondition(rank >= 1 && index >= 0 && index < shape[0], "row \(index) outside 0..<\(shape.first ?? 0)")
        let rowSize = shape.dropFirst().reduce(1, *)
        return Tensor(storage: storage, offset: offset + index * rowSize, shape: Array(shape.dropFirst()))
    }

    /// An independent copy.
    public func copy() -> Tensor {
        let result = Tensor(zeros: shape)
        if count > 0 { result.storage.base.update(from: storage.base + offset, count: count) }
        return result
    }

    /// Copies `source` (same element count) into this tensor's values.
    public func assign(_ source: Tensor) {
        precondition(source.count == count, "assign: \(source.shape) into \(shape)")
        if count > 0 { (storage.base + offset).update(from: source.storage.base + source.offset, count: count) }
    }

    public func withPointer<R>(_ body: (UnsafePointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafePointer(storage.base + offset))
    }

    public func withMutablePointer<R>(_ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        try body(storage.base + offset)
    }

    public func withBuffer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.base + offset, count: count))
    }

    public func withMutableBuffer<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeMutableBufferPointer(start: storage.base + offset, count: count))
    }

    public var description: String {
        let preview = scalars.prefix(8).map { String($0) }.joined(separator: ", ")
        return "Tensor(\(shape): [\(preview)\(count > 8 ? ", …" : "")])"
    }
}
