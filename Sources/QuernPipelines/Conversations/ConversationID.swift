/// A conversation's name, as a request's `"conversation"` field gives it. It
/// becomes a file name in the daemon's state folder, so it is held to a
/// safe alphabet: 1–128 ASCII letters, digits, `.`, `_` and `-`, starting
/// with a letter or digit (no hidden names, no `.` or `..`, no `/`).
public enum ConversationID {
    public static let maximumLength = 128

    /// Why `id` cannot name a conversation, or nil when it can.
    public static func problem(with id: String) -> String? {
        let bytes = Array(id.utf8)
        guard !bytes.isEmpty else { return "a conversation id must not be empty" }
        guard bytes.count <= maximumLength else {
            return "a conversation id has at most \(maximumLength) characters (this one has \(bytes.count))"
        }
        guard bytes.allSatisfy(isAllowed) else {
            return "a conversation id may hold only ASCII letters, digits, \".\", \"_\" and \"-\" (got \"\(id)\")"
        }
        guard isLetterOrDigit(bytes[0]) else { return "a conversation id must start with a letter or a digit (got \"\(id)\")" }
        return nil
    }

    private static func isLetterOrDigit(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }

    private static func isAllowed(_ byte: UInt8) -> Bool {
        isLetterOrDigit(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
    }
}
