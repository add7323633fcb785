import QuernJSON

/// Typed, path-aware access to one object of a head.json: every error is a
/// `learning.invalid_head` naming the file and the key path
/// (`…/head.json: architecture.input_width: expected a whole number from 1 to 1048576, got "x"`).
struct ManifestReader {
    let file: String
    let path: String
    let members: [(key: String, value: JSONValue)]

    init(_ value: JSONValue, file: String, path: String = "") throws(LearningError) {
        self.file = file
        self.path = path
        guard let members = value.objectValue else {
            throw LearningError(.invalidHead, "\(file): \(path.isEmpty ? "the document" : path) must be an object, got \(value.typeName)")
        }
        self.members = members
    }

    func error(_ key: String?, _ reason: String) -> LearningError {
        let place = [path, key ?? ""].filter { !$0.isEmpty }.joined(separator: ".")
        return LearningError(.invalidHead, "\(file): \(place.isEmpty ? "" : place + ": ")\(reason)")
    }

    /// Refuses members outside `known`, naming them all: a misspelt key must
    /// not be silently ignored in a file that decides what the daemon answers.
    func onlyKeys(_ known: [String]) throws(LearningError) {
        let unknown = members.map(\.key).filter { !known.contains($0) }
        guard unknown.isEmpty else {
            throw error(nil, "unknown key\(unknown.count == 1 ? "" : "s") \(unknown.map { "\"\($0)\"" }.joined(separator: ", ")) (known: \(known.joined(separator: ", ")))")
        }
    }

    func optional(_ key: String) -> JSONValue? {
        guard let value = members.first(where: { $0.key == key })?.value, !value.isNull else { return nil }
        return value
    }

    func required(_ key: String) throws(LearningError) -> JSONValue {
        guard let value = optional(key) else { throw error(key, "missing") }
        return value
    }

    func string(_ key: String) throws(LearningError) -> String {
        let value = try required(key)
        guard let text = value.stringValue else { throw error(key, "expected a string, got \(value.typeName)") }
        return text
    }

    func optionalString(_ key: String) throws(LearningError) -> String? {
        guard let value = optional(key) else { return nil }
        guard let text = value.stringValue else { throw error(key, "expected a string or null, got \(value.typeName)") }
        return text
    }

    func integer(_ key: String, in range: ClosedRange<Int>) throws(LearningError) -> Int {
        try integer(try required(key), key: key, in: range)
    }

    func optionalInteger(_ key: String, in range: ClosedRange<Int>) throws(LearningError) -> Int? {
        guard let value = optional(key) else { return nil }
        return try integer(value, key: key, in: range)
    }

    /// `value` (found under `key`) as a whole number in `range`.
    func integer(_ value: JSONValue, key: String, in range: ClosedRange<Int>) throws(LearningError) -> Int {
        guard let number = value.intValue, range.contains(number) else {
            let shown: String
            if case let .number(text) = value { shown = text } else { shown = value.typeName }
            let upper = range.upperBound == Int.max ? "" : " to \(range.upperBound)"
            throw error(key, "expected a whole number from \(range.lowerBound)\(upper), got \(shown)")
        }
        return number
    }

    func number(_ key: String) throws(LearningError) -> Double {
        let value = try required(key)
        guard let number = value.doubleValue else { throw error(key, "expected a finite number, got \(value.typeName)") }
        return number
    }

    func optionalNumber(_ key: String) throws(LearningError) -> Double? {
        guard let value = optional(key) else { return nil }
        guard let number = value.doubleValue else { throw error(key, "expected a finite number or null, got \(value.typeName)") }
        return number
    }

    func object(_ key: String) throws(LearningError) -> ManifestReader {
        try ManifestReader(try required(key), file: file, path: [path, key].filter { !$0.isEmpty }.joined(separator: "."))
    }

    func array(_ key: String) throws(LearningError) -> [JSONValue] {
        let value = try required(key)
        guard let elements = value.arrayValue else { throw error(key, "expected an array, got \(value.typeName)") }
        return elements
    }

    /// A lowercase hex SHA-256.
    func sha256(_ key: String) throws(LearningError) -> String {
        let text = try string(key)
        guard text.utf8.count == 64, text.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else {
            throw error(key, "expected a SHA-256 as 64 lowercase hex digits, got \"\(text.prefix(80))\"")
        }
        return text
    }

    /// One of `choices`, by its raw value.
    func choice<T: RawRepresentable & CaseIterable>(_ key: String, _ type: T.Type) throws(LearningError) -> T where T.RawValue == String {
        let text = try string(key)
        guard let value = T(rawValue: text) else {
            throw error(key, "unknown value \"\(text.prefix(80))\" (expected one of: \(T.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return value
    }
}
