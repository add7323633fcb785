/// A JSON document as parsed — the one JSON representation in Quern, for
/// requests, results and every JSON file a model folder carries. It keeps
/// what Foundation's JSONSerialization loses: the order of object members,
/// the exact text of numbers (a seed above 2^53 must not be rounded, a
/// float's decimal must be read once, from its text), and the difference
/// between `true` and `1`.
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

// MARK: Building values to write

extension JSONValue {
    public static func int<T: BinaryInteger>(_ value: T) -> JSONValue { .number(String(value)) }

    /// Non-finite values have no JSON spelling; they become null.
    public static func double(_ value: Double) -> JSONValue {
        value.isFinite ? .number(formatNumber(value)) : .null
    }

    public static func float(_ value: Float) -> JSONValue {
        value.isFinite ? .number(formatNumber(Double(value), shortest: value.description)) : .null
    }

    /// The shortest text that reads back as `value`, with the `.0` of a
    /// whole number dropped (`-0.0` stays `-0`): how Foundation's
    /// JSONSerialization wrote doubles, kept for the outputs that were
    /// first written with it (`quern embed`). Non-finite values become null.
    public static func shortest(_ value: Double) -> JSONValue {
        guard value.isFinite else { return .null }
        let text = value.description
        return .number(text.hasSuffix(".0") ? String(text.dropLast(2)) : text)
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
}

// MARK: Reading parsed values

extension JSONValue {
    /// The kind of value, as error messages name it ("must be a string, got number").
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

    /// Member `key` of an object (nil for a missing key or a non-object).
    public subscript(key: String) -> JSONValue? {
        guard case let .object(members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    public var isNull: Bool { if case .null = self { return true } else { return false } }

    public var boolValue: Bool? {
        if case let .bool(value) = self { return value }
        return nil
    }

    public var stringValue: String? {
        if case let .string(value) = self { return value }
        return nil
    }

    /// A number written as a whole number without fraction or exponent
    /// that fits `Int` (`3`, not `3.0` or `3e0`): what checkpoint formats
    /// mean by an integer.
    public var intValue: Int? {
        if case let .number(text) = self { return Int(text) }
        return nil
    }

    /// Any finite number, read from its text.
    public var doubleValue: Double? {
        guard case let .number(text) = self, let value = Double(text), value.isFinite else { return nil }
        return value
    }

    public var arrayValue: [JSONValue]? {
        if case let .array(elements) = self { return elements }
        return nil
    }

    /// An object's members, in document order.
    public var objectValue: [(key: String, value: JSONValue)]? {
        if case let .object(members) = self { return members }
        return nil
    }
}
