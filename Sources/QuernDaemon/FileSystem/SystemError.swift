#if canImport(Glibc)
import Glibc
#endif

/// A failed system call: which one, on what path, and errno.
public struct SystemError: Error, Sendable, CustomStringConvertible {
    public let operation: String
    public let path: String
    public let code: Int32

    init(_ operation: String, _ path: [UInt8], code: Int32 = errno) {
        self.operation = operation
        self.path = ResultNames.display(path)
        self.code = code
    }

    public var description: String {
        let reason = strerror(code).map { String(cString: $0) } ?? "errno \(code)"
        return "\(operation) \(path): \(reason)"
    }
}
