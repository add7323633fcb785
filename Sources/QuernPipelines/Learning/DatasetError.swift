/// Why a dataset cannot be read or featurised: a stable code (`dataset.*`)
/// for scripts and tests, the file (and, in a JSONL/CSV/TSV file, the line)
/// at fault, and a message that says what to do about it.
///
/// Single examples that cannot be used are not errors: they are skipped and
/// listed with their reason (`SkippedExample`). These are the faults that
/// leave nothing sound to train on.
public struct DatasetError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, CaseIterable {
        /// The dataset path does not exist.
        case notFound = "dataset.not_found"
        /// It cannot be read (permissions, not a regular file or folder, I/O).
        case unreadable = "dataset.unreadable"
        /// A file whose format is not a dataset format (.jsonl, .csv, .tsv).
        case unsupportedFormat = "dataset.unsupported_format"
        /// A line that breaks its format (invalid JSON, an unclosed quote,
        /// the wrong number of fields).
        case malformed = "dataset.malformed"
        /// The text, path, label or target column is not there.
        case missingColumn = "dataset.missing_column"
        /// Examples of more than one kind (text, image, audio).
        case mixedKinds = "dataset.mixed_kinds"
        /// A class with fewer examples than training needs.
        case tooFewExamples = "dataset.too_few_examples"
        /// Fewer than two classes: nothing to tell apart.
        case tooFewClasses = "dataset.too_few_classes"
        /// No usable example at all.
        case empty = "dataset.empty"
        /// A test set's label the training set never had.
        case unknownClass = "dataset.unknown_class"
        /// Options that contradict each other or the dataset.
        case invalidOption = "dataset.invalid_option"
        /// The model the features come from cannot be found or loaded.
        case featureModel = "dataset.feature_model"
    }

    public let kind: Kind
    /// The dataset file or folder, or the example file concerned.
    public let path: String?
    /// The 1-based line of a JSONL/CSV/TSV file.
    public let line: Int?
    public let message: String

    public init(_ kind: Kind, path: String? = nil, line: Int? = nil, _ message: String) {
        self.kind = kind
        self.path = path
        self.line = line
        self.message = message
    }

    public var code: String { kind.rawValue }
    public var description: String { message }
}
