/// A head's name is also its folder's name under `models/heads/`, so it
/// must be a safe file name on every system a head is copied to: 1–64 ASCII
/// letters, digits, `-`, `_` and `.`, starting with a letter or digit (no
/// hidden folders, no `..`, no separators, no option-looking `-x`).
public enum HeadName {
    public static let maximumLength = 64

    /// Why `name` cannot be a head's name, or nil when it can.
    public static func problem(with name: String) -> String? {
        guard !name.isEmpty else { return "a head name must not be empty" }
        guard name.utf8.count <= maximumLength else { return "head name \"\(name.prefix(80))\" is longer than \(maximumLength) characters" }
        guard let first = name.unicodeScalars.first, isAlphanumeric(first) else {
            return "head name \"\(name)\" must start with a letter or a digit"
        }
        for scalar in name.unicodeScalars where !(isAlphanumeric(scalar) || scalar == "-" || scalar == "_" || scalar == ".") {
            return "head name \"\(name)\" may hold only ASCII letters, digits, \"-\", \"_\" and \".\""
        }
        return nil
    }

    public static func validate(_ name: String) throws(LearningError) {
        if let problem = problem(with: name) { throw LearningError(.invalidParameter, problem) }
    }

    private static func isAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
    }
}
