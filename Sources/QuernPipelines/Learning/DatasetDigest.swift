import Crypto

/// The identity of what a head was trained (or evaluated) on: SHA-256 over
/// one line per example — its input's SHA-256, a tab, its label (the class
/// name, not its index, so the digest does not depend on the class list)
/// or its target (Swift's shortest round-trip form) — the lines sorted, so
/// neither file order nor the source's format changes it. The same images
/// listed by a folder or by a CSV file give the same digest.
public enum DatasetDigest {
    static let header = "quern-dataset-v1\n"

    public static func of(_ examples: [DatasetExample], classes: [String]) -> String {
        var lines = examples.map { example -> String in
            switch example.target {
            case let .label(index): return example.sha256 + "\t" + escaped(classes.indices.contains(index) ? classes[index] : "#\(index)")
            case let .value(value): return example.sha256 + "\t" + String(describing: value)
            }
        }
        lines.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        var hasher = SHA256()
        SHA256Hex.update(&hasher, with: Array(header.utf8))
        for line in lines { SHA256Hex.update(&hasher, with: Array((line + "\n").utf8)) }
        return SHA256Hex.finalize(hasher)
    }

    /// A label with its backslashes, tabs and line breaks escaped, so one
    /// line can never pass for two.
    private static func escaped(_ label: String) -> String {
        var result = ""
        for character in label.unicodeScalars {
            switch character {
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default: result.unicodeScalars.append(character)
            }
        }
        return result
    }
}
