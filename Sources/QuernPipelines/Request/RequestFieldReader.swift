import QuernJSON

/// Typed access to a request object's members. `null` counts as absent for
/// optional fields, as the common APIs treat it.
struct Fields {
    private let members: [(key: String, value: JSONValue)]
    private let path: String

    init(_ members: [(key: String, value: JSONValue)], path: String = "") {
        self.members = members
        self.path = path
    }

    subscript(key: String) -> JSONValue? {
        members.first { $0.key == key }?.value
    }

    private func present(_ key: String) -> JSONValue? {
        guard let value = self[key], value != .null else { return nil }
        return value
    }

    private func name(_ key: String) -> String { path + key }

    func requiredString(_ key: String) throws(QuernError) -> String {
        guard let value = present(key) else { throw QuernError(.requestMissingField, "missing field \"\(name(key))\"") }
        guard case let .string(text) = value else { throw RequestParser.wrongType(name(key), expected: "a string", got: value) }
        return text
    }

    func optionalString(_ key: String) throws(QuernError) -> String? {
        guard let value = present(key) else { return nil }
        guard case let .string(text) = value else { throw RequestParser.wrongType(name(key), expected: "a string", got: value) }
        return text
    }

    func optionalBool(_ key: String) throws(QuernError) -> Bool? {
        guard let value = present(key) else { return nil }
        guard case let .bool(flag) = value else { throw RequestParser.wrongType(name(key), expected: "true or false", got: value) }
        return flag
    }

    func optionalNumber(_ key: String, range: ClosedRange<Double>) throws(QuernError) -> Double? {
        guard let value = present(key) else { return nil }
        guard case let .number(text) = value, let number = Double(text), number.isFinite else {
            throw RequestParser.wrongType(name(key), expected: "a number", got: value)
        }
        guard range.contains(number) else {
            throw QuernError(.requestInvalidValue, "field \"\(name(key))\" must be between \(range.lowerBound) and \(range.upperBound), got \(text)")
        }
        return number
    }

    func optionalInteger(_ key: String, range: ClosedRange<Int>) throws(QuernError) -> Int? {
        guard let value = present(key) else { return nil }
        guard case let .number(text) = value, let number = Double(text), number.isFinite, number == number.rounded() else {
            throw RequestParser.wrongType(name(key), expected: "an integer", got: value)
        }
        guard number >= Double(range.lowerBound), number <= Double(range.upperBound) else {
            throw QuernError(.requestInvalidValue, "field \"\(name(key))\" must be between \(range.lowerBound) and \(range.upperBound), got \(text)")
        }
        return Int(number)
    }

    /// Seeds are 64-bit and must round-trip exactly, so they are read from the
    /// number's text, never through a Double.
    func optionalSeed(_ key: String) throws(QuernError) -> UInt64? {
        guard let value = present(key) else { return nil }
        guard case let .number(text) = value else { throw RequestParser.wrongType(name(key), expected: "an integer", got: value) }
        guard let seed = UInt64(text) else {
            throw QuernError(.requestInvalidValue, "field \"\(name(key))\" must be a whole number from 0 to \(UInt64.max), got \(text)")
        }
        return seed
    }

    func optionalStringOrList(_ key: String, maximumCount: Int) throws(QuernError) -> [String] {
        guard let value = present(key) else { return [] }
        switch value {
        case let .string(text): return [text]
        case let .array(elements):
            guard elements.count <= maximumCount else {
                throw QuernError(.requestInvalidValue, "field \"\(name(key))\" has \(elements.count) entries, at most \(maximumCount) allowed")
            }
            var strings: [String] = []
            for (position, element) in elements.enumerated() {
                guard case let .string(text) = element else {
                    throw RequestParser.wrongType("\(name(key))[\(position)]", expected: "a string", got: element)
                }
                strings.append(text)
            }
            return strings
        default:
            throw RequestParser.wrongType(name(key), expected: "a string or a list of strings", got: value)
        }
    }
}
