/// Why a parsed JSON value is not the typed value a reader asked for, and
/// where: the key path (`size.shortest_edge`, `merges[3]`) and what was
/// wrong. Readers of a file put its name in front, so a message reads
/// `…/config.json: n_embd: expected an integer, got a string`.
public struct JSONDecodingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Stable machine codes: never renamed or reused.
    public enum Code: String, Sendable, CaseIterable {
        /// A required key is absent (or null).
        case missingKey = "json.missing_key"
        /// A value of another JSON type than the one asked for.
        case wrongType = "json.wrong_type"
        /// The right type but an unusable value: an integer out of range, an
        /// unknown enumeration case, or a reader's own check.
        case invalidValue = "json.invalid_value"
    }

    public let code: Code
    /// Where in the document, e.g. `size.shortest_edge` or `added_tokens[2].id`;
    /// empty for the document itself.
    public let path: String
    public let reason: String

    public init(_ code: Code, path: String, _ reason: String) {
        self.code = code
        self.path = path
        self.reason = reason
    }

    public var description: String { path.isEmpty ? reason : "\(path): \(reason)" }

    /// `path` as written in messages: keys joined by dots, array positions in brackets.
    public static func render(_ codingPath: [any CodingKey]) -> String {
        var text = ""
        for key in codingPath {
            if let element = key as? JSONArrayIndex {
                text += "[\(element.position)]"
            } else {
                if !text.isEmpty { text += "." }
                text += key.stringValue
            }
        }
        return text
    }
}

/// The coding key of an array element, so paths can show `[3]`.
struct JSONArrayIndex: CodingKey {
    let position: Int
    var intValue: Int? { position }
    var stringValue: String { "[\(position)]" }

    init(_ position: Int) { self.position = position }
    init?(stringValue: String) { return nil }
    init?(intValue: Int) { position = intValue }
}
