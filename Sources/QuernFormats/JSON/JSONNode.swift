/// A parsed JSON value, for the JSON that checkpoints carry (safetensors
/// headers, `config.json`, `tokenizer.json`, sentence-transformers files).
///
/// Numbers keep the distinction the formats rely on: a literal without a
/// fraction or exponent that fits `Int` is `.integer`, anything else
/// `.number`. Object members keep their order; duplicate keys are a parse
/// error, because two different values under one name (two tensors called
/// the same, say) is exactly what a hostile file would try.
public enum JSONNode: Sendable, Equatable {
    case null
    case bool(Bool)
    case integer(Int)
    case number(Double)
    case string(String)
    case array([JSONNode])
    case object(JSONObject)

    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .integer, .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    public var stringValue: String? {
        if case let .string(value) = self { return value }
        return nil
    }

    public var intValue: Int? {
        if case let .integer(value) = self { return value }
        return nil
    }

    /// Integers and other numbers alike, as Double.
    public var doubleValue: Double? {
        switch self {
        case let .integer(value): return Double(value)
        case let .number(value): return value
        default: return nil
        }
    }

    public var boolValue: Bool? {
        if case let .bool(value) = self { return value }
        return nil
    }

    public var arrayValue: [JSONNode]? {
        if case let .array(value) = self { return value }
        return nil
    }

    public var objectValue: JSONObject? {
        if case let .object(value) = self { return value }
        return nil
    }

    public var isNull: Bool { self == .null }

    /// Member `key` of an object (nil for a missing key or a non-object).
    public subscript(key: String) -> JSONNode? { objectValue?[key] }
}

/// A JSON object: members in file order plus an index by key.
public struct JSONObject: Sendable, Equatable {
    public let members: [(key: String, value: JSONNode)]
    private let index: [String: Int]

    init(members: [(key: String, value: JSONNode)], index: [String: Int]) {
        self.members = members
        self.index = index
    }

    public subscript(key: String) -> JSONNode? {
        guard let position = index[key] else { return nil }
        return members[position].value
    }

    public var keys: [String] { members.map(\.key) }
    public var count: Int { members.count }

    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        a.members.count == b.members.count && zip(a.members, b.members).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }
}
