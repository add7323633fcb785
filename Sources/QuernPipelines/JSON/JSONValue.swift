/// A JSON document as parsed, keeping what Foundation's JSONSerialization
/// loses: the order of object keys, the exact text of numbers (a seed above
/// 2^53 must not be rounded), and the difference between `true` and `1`.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// The number's JSON text, e.g. `-12`, `0.5`, `1e-3`.
    case number(String)
    case string(String)
    case array([JSONValue])
    /// Members in document order. Keys are unique (the parser rejects duplicates).
    case object([(key: String, value: JSONValue)])

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.number(a), .number(b)): return a == b
        case let (.string(a), .string(b)): return a == b
        case let (.array(a), .array(b)): return a == b
        case let (.object(a), .object(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }
}

extension JSONValue {
    public static func int<T: BinaryInteger>(_ value: T) -> JSONValue { .number(String(value)) }

    /// Non-finite values have no JSON spelling; they become null.
    public static func double(_ value: Double) -> JSONValue {
        value.isFinite ? .number(formatNumber(value)) : .null
    }

    public static func float(_ value: Float) -> JSONValue {
        value.isFinite ? .number(formatNumber(Double(value), shortest: value.description)) : .null
    }

    /// Seconds written as milliseconds with microsecond resolution: enough
    /// for timings, short to read.
    public static func milliseconds(_ seconds: Double) -> JSONValue {
        .double((seconds * 1_000_000).rounded() / 1000)
    }

    public static func optional(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }

    /// Swift prints whole doubles as `3.0` and tiny ones as `1e-05`; both are
    /// valid JSON, so the shortest round-trip text is kept as it is.
    private static func formatNumber(_ value: Double, shortest: String? = nil) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return shortest ?? value.description
    }

    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    public subscript(key: String) -> JSONValue? {
        guard case let .object(members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }
}
