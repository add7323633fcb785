/// Errors of the shared queue, with stable codes (logged, and the exit
/// message of `quern queue`).
public struct QueueError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case badLocation = "queue.bad_location"
        case unreachable = "queue.unreachable"
        case schemaTooNew = "queue.schema_too_new"
        case statementFailed = "queue.statement_failed"
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
