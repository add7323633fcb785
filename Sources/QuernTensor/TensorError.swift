/// Errors raised at the tensor core's public edges. Each has a stable code
/// that higher layers copy into results and logs.
public enum TensorError: Error, Equatable, CustomStringConvertible, Sendable {
    /// A value count does not match the product of a shape.
    case countMismatch(shape: [Int], expected: Int, actual: Int)
    /// A byte buffer is too short for the tensor described over it.
    case byteCountMismatch(what: String, expected: Int, actual: Int)
    /// A shape that no operation can accept (negative dimension, overflow).
    case invalidShape([Int], reason: String)
    /// A quantised row length that is not a whole number of blocks.
    case blockMisaligned(type: String, columns: Int, blockSize: Int)
    /// An index (token id, row) outside the table it selects from.
    case indexOutOfRange(index: Int, count: Int, what: String)
    /// The BLAS library could not be loaded.
    case blasUnavailable(String)
    /// A file could not be opened or mapped.
    case io(path: String, reason: String)

    public var code: String {
        switch self {
        case .countMismatch: return "tensor.count_mismatch"
        case .byteCountMismatch: return "tensor.byte_count_mismatch"
        case .invalidShape: return "tensor.invalid_shape"
        case .blockMisaligned: return "tensor.block_misaligned"
        case .indexOutOfRange: return "tensor.index_out_of_range"
        case .blasUnavailable: return "tensor.blas_unavailable"
        case .io: return "tensor.io"
        }
    }

    public var description: String {
        switch self {
        case let .countMismatch(shape, expected, actual):
            return "shape \(shape) holds \(expected) values but \(actual) were given"
        case let .byteCountMismatch(what, expected, actual):
            return "\(what) needs \(expected) bytes but \(actual) are available"
        case let .invalidShape(shape, reason):
            return "invalid shape \(shape): \(reason)"
        case let .blockMisaligned(type, columns, blockSize):
            return "\(type) rows must be a multiple of \(blockSize) values, got \(columns)"
        case let .indexOutOfRange(index, count, what):
            return "\(what) index \(index) is outside 0..<\(count)"
        case let .blasUnavailable(reason):
            return reason
        case let .io(path, reason):
            return "\(path): \(reason)"
        }
    }
}

/// The number of elements of a shape, or an error for negative dimensions
/// and products that overflow `Int`.
public func elementCount(of shape: [Int]) throws(TensorError) -> Int {
    var count = 1
    for dimension in shape {
        guard dimension >= 0 else { throw .invalidShape(shape, reason: "negative dimension") }
        let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
        guard !overflow else { throw .invalidShape(shape, reason: "element count overflows") }
        count = product
    }
    return count
}
