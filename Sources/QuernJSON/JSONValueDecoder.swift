/// Decodes `Decodable` types from a parsed `JSONValue`, so a JSON file is
/// read into a plain typed struct in one place instead of being poked at
/// key by key. Failures are `JSONDecodingError`s naming the key path
/// (`size.shortest_edge: expected an integer, got a string`).
///
/// Conversions follow Foundation's JSONDecoder: integers accept whole
/// numbers written with a fraction or exponent (`3.0`, `1e3`) when exact and
/// in range; floats are read straight from the number's text (one
/// rounding, not two through Double); `decodeIfPresent` treats null as
/// absent. Unknown keys are ignored, as synthesized `Decodable` does.
public struct JSONValueDecoder {
    public init() {}

    public func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws(JSONDecodingError) -> T {
        try Unboxing.decode(type, value, codingPath: [])
    }
}

extension JSONValue {
    /// This value as a `T` (see `JSONValueDecoder`).
    public func decode<T: Decodable>(_ type: T.Type = T.self) throws(JSONDecodingError) -> T {
        try JSONValueDecoder().decode(type, from: self)
    }
}

extension KeyedDecodingContainer {
    /// The error for a value under `key` that decoded but cannot be used:
    /// for a type's own checks inside `init(from:)`.
    public func invalidValue(_ key: Key, _ reason: String) -> JSONDecodingError {
        JSONDecodingError(.invalidValue, path: JSONDecodingError.render(codingPath + [key]), reason)
    }
}

// JSONValue decodes as itself: a typed struct can keep a part whose shape
// varies (a list or a string) and look at it afterwards.
extension JSONValue: Decodable {
    public init(from decoder: any Decoder) throws {
        guard let valueDecoder = decoder as? ValueDecoder else {
            throw DecodingError.typeMismatch(JSONValue.self, DecodingError.Context(
                codingPath: decoder.codingPath, debugDescription: "JSONValue decodes only through JSONValueDecoder"))
        }
        self = valueDecoder.value
    }
}

/// The conversions from `JSONValue` to Swift values, shared by the containers.
enum Unboxing {
    static func decode<T: Decodable>(_ type: T.Type, _ value: JSONValue, codingPath: [any CodingKey]) throws(JSONDecodingError) -> T {
        if let same = value as? T { return same }
        do {
            return try T(from: ValueDecoder(value: value, codingPath: codingPath))
        } catch let error as JSONDecodingError {
            throw error
        } catch let error as DecodingError {
            throw converted(error)
        } catch {
            // A type's own check threw something else: keep its words, add the place.
            throw JSONDecodingError(.invalidValue, path: JSONDecodingError.render(codingPath), "\(error)")
        }
    }

    static func bool(_ value: JSONValue, _ codingPath: [any CodingKey]) throws(JSONDecodingError) -> Bool {
        guard case let .bool(flag) = value else { throw mismatch("a boolean", value, codingPath) }
        return flag
    }

    static func string(_ value: JSONValue, _ codingPath: [any CodingKey]) throws(JSONDecodingError) -> String {
        guard case let .string(text) = value else { throw mismatch("a string", value, codingPath) }
        return text
    }

    static func integer<T: FixedWidthInteger>(_ value: JSONValue, _ codingPath: [any CodingKey]) throws(JSONDecodingError) -> T {
        guard case let .number(text) = value else { throw mismatch("an integer", value, codingPath) }
        if let exact = T(text) { return exact }
        guard let number = Double(text), number.isFinite, number == number.rounded() else {
            throw mismatch("an integer", value, codingPath)
        }
        // `3.0` and `1e3` are whole numbers; beyond 2^53 a double no longer
        // says which integer was written, so those must be plain digits.
        guard abs(number) <= 9_007_199_254_740_992, let whole = T(exactly: number) else {
            throw JSONDecodingError(.invalidValue, path: JSONDecodingError.render(codingPath),
                                    "expected an integer from \(T.min) to \(T.max), got \(text)")
        }
        return whole
    }

    static func floating<T: BinaryFloatingPoint & LosslessStringConvertible>(_ value: JSONValue, _ codingPath: [any CodingKey]) throws(JSONDecodingError) -> T {
        guard case let .number(text) = value else { throw mismatch("a number", value, codingPath) }
        guard let number = T(text), number.isFinite else {
            throw JSONDecodingError(.invalidValue, path: JSONDecodingError.render(codingPath), "the number \(text) is out of range")
        }
        return number
    }

    static func mismatch(_ expected: String, _ value: JSONValue, _ codingPath: [any CodingKey]) -> JSONDecodingError {
        JSONDecodingError(.wrongType, path: JSONDecodingError.render(codingPath), "expected \(expected), got \(described(value))")
    }

    /// A value as a message shows it: small scalars by their text, the rest by kind.
    static func described(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case let .bool(flag): return flag ? "true" : "false"
        case let .number(text): return text.utf8.count <= 24 ? text : "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// Errors raised by the standard library's own conformances (an enum's
    /// raw value it does not know, say) or by a type's `init(from:)`.
    static func converted(_ error: DecodingError) -> JSONDecodingError {
        switch error {
        case let .typeMismatch(_, context):
            return JSONDecodingError(.wrongType, path: JSONDecodingError.render(context.codingPath), context.debugDescription)
        case let .valueNotFound(_, context):
            return JSONDecodingError(.wrongType, path: JSONDecodingError.render(context.codingPath), context.debugDescription)
        case let .keyNotFound(key, context):
            return JSONDecodingError(.missingKey, path: JSONDecodingError.render(context.codingPath + [key]), "missing")
        case let .dataCorrupted(context):
            return JSONDecodingError(.invalidValue, path: JSONDecodingError.render(context.codingPath), context.debugDescription)
        @unknown default:
            return JSONDecodingError(.invalidValue, path: "", "\(error)")
        }
    }
}

/// The `Decoder` handed to `init(from:)`: one value and where it sits.
struct ValueDecoder: Decoder {
    let value: JSONValue
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case let .object(members) = value else { throw Unboxing.mismatch("an object", value, codingPath) }
        return KeyedDecodingContainer(ObjectContainer<Key>(members: members, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case let .array(elements) = value else { throw Unboxing.mismatch("an array", value, codingPath) }
        return ArrayContainer(elements: elements, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SingleValueContainer(value: value, codingPath: codingPath)
    }
}

/// An object's members by key. Small objects (configs) are searched in
/// order; large ones (a vocabulary decoded as a dictionary) get an index,
/// so decoding stays linear in the member count.
struct ObjectContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: [(key: String, value: JSONValue)]
    let codingPath: [any CodingKey]
    private let index: [String: Int]?

    init(members: [(key: String, value: JSONValue)], codingPath: [any CodingKey]) {
        self.members = members
        self.codingPath = codingPath
        if members.count > 16 {
            var index: [String: Int] = [:]
            index.reserveCapacity(members.count)
            // Keys are unique: the parser refused duplicates.
            for (position, member) in members.enumerated() { index[member.key] = position }
            self.index = index
        } else {
            index = nil
        }
    }

    var allKeys: [Key] { members.compactMap { Key(stringValue: $0.key) } }

    func contains(_ key: Key) -> Bool { lookup(key) != nil }

    private func lookup(_ key: Key) -> JSONValue? {
        if let index { return index[key.stringValue].map { members[$0].value } }
        return members.first { $0.key == key.stringValue }?.value
    }

    private func value(_ key: Key) throws(JSONDecodingError) -> JSONValue {
        guard let value = lookup(key) else {
            throw JSONDecodingError(.missingKey, path: JSONDecodingError.render(codingPath + [key]), "missing")
        }
        return value
    }

    func decodeNil(forKey key: Key) throws -> Bool { try value(key).isNull }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try Unboxing.bool(value(key), codingPath + [key]) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try Unboxing.string(value(key), codingPath + [key]) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try Unboxing.floating(value(key), codingPath + [key]) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try Unboxing.floating(value(key), codingPath + [key]) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try Unboxing.integer(value(key), codingPath + [key]) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try Unboxing.integer(value(key), codingPath + [key]) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try Unboxing.integer(value(key), codingPath + [key]) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try Unboxing.integer(value(key), codingPath + [key]) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try Unboxing.integer(value(key), codingPath + [key]) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try Unboxing.integer(value(key), codingPath + [key]) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try Unboxing.integer(value(key), codingPath + [key]) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try Unboxing.integer(value(key), codingPath + [key]) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try Unboxing.integer(value(key), codingPath + [key]) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try Unboxing.integer(value(key), codingPath + [key]) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try Unboxing.decode(type, value(key), codingPath: codingPath + [key]) }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try ValueDecoder(value: value(key), codingPath: codingPath + [key]).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try ValueDecoder(value: value(key), codingPath: codingPath + [key]).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        ValueDecoder(value: .object(members), codingPath: codingPath)
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        ValueDecoder(value: lookup(key) ?? .null, codingPath: codingPath + [key])
    }
}

/// An array's elements, read front to back.
struct ArrayContainer: UnkeyedDecodingContainer {
    let elements: [JSONValue]
    let codingPath: [any CodingKey]
    private(set) var currentIndex = 0

    init(elements: [JSONValue], codingPath: [any CodingKey]) {
        self.elements = elements
        self.codingPath = codingPath
    }

    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    private var elementPath: [any CodingKey] { codingPath + [JSONArrayIndex(currentIndex)] }

    /// The next element; the position moves on only when it decodes.
    private mutating func next<T>(_ convert: (JSONValue, [any CodingKey]) throws(JSONDecodingError) -> T) throws(JSONDecodingError) -> T {
        guard !isAtEnd else {
            throw JSONDecodingError(.missingKey, path: JSONDecodingError.render(elementPath),
                                    "missing (the array has only \(elements.count) elements)")
        }
        let converted = try convert(elements[currentIndex], elementPath)
        currentIndex += 1
        return converted
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, elements[currentIndex].isNull else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try next(Unboxing.bool) }
    mutating func decode(_ type: String.Type) throws -> String { try next(Unboxing.string) }
    mutating func decode(_ type: Double.Type) throws -> Double { try next(Unboxing.floating) }
    mutating func decode(_ type: Float.Type) throws -> Float { try next(Unboxing.floating) }
    mutating func decode(_ type: Int.Type) throws -> Int { try next(Unboxing.integer) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try next(Unboxing.integer) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try next(Unboxing.integer) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try next(Unboxing.integer) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try next(Unboxing.integer) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try next(Unboxing.integer) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try next(Unboxing.integer) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try next(Unboxing.integer) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try next(Unboxing.integer) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try next(Unboxing.integer) }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try next { (value, path) throws(JSONDecodingError) in try Unboxing.decode(type, value, codingPath: path) }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let container = try ValueDecoder(value: next { value, _ in value }, codingPath: codingPath + [JSONArrayIndex(currentIndex - 1)])
        return try container.container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let container = try ValueDecoder(value: next { value, _ in value }, codingPath: codingPath + [JSONArrayIndex(currentIndex - 1)])
        return try container.unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        ValueDecoder(value: try next { value, _ in value }, codingPath: codingPath + [JSONArrayIndex(currentIndex - 1)])
    }
}

/// One value that is not taken apart (a number, a string, an enum's raw value).
struct SingleValueContainer: SingleValueDecodingContainer {
    let value: JSONValue
    let codingPath: [any CodingKey]

    func decodeNil() -> Bool { value.isNull }
    func decode(_ type: Bool.Type) throws -> Bool { try Unboxing.bool(value, codingPath) }
    func decode(_ type: String.Type) throws -> String { try Unboxing.string(value, codingPath) }
    func decode(_ type: Double.Type) throws -> Double { try Unboxing.floating(value, codingPath) }
    func decode(_ type: Float.Type) throws -> Float { try Unboxing.floating(value, codingPath) }
    func decode(_ type: Int.Type) throws -> Int { try Unboxing.integer(value, codingPath) }
    func decode(_ type: Int8.Type) throws -> Int8 { try Unboxing.integer(value, codingPath) }
    func decode(_ type: Int16.Type) throws -> Int16 { try Unboxing.integer(value, codingPath) }
    func decode(_ type: Int32.Type) throws -> Int32 { try Unboxing.integer(value, codingPath) }
    func decode(_ type: Int64.Type) throws -> Int64 { try Unboxing.integer(value, codingPath) }
    func decode(_ type: UInt.Type) throws -> UInt { try Unboxing.integer(value, codingPath) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try Unboxing.integer(value, codingPath) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try Unboxing.integer(value, codingPath) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try Unboxing.integer(value, codingPath) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try Unboxing.integer(value, codingPath) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try Unboxing.decode(type, value, codingPath: codingPath) }
}
