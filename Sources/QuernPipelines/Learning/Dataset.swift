/// A labelled dataset, read and checked: every example usable (its file
/// read, its kind known, its label or target valid), the classes in their
/// canonical order, what was skipped and why, and a digest of exactly what
/// a head trained on it saw.
public struct Dataset: Sendable {
    public enum Task: Sendable, Equatable {
        /// Labels from a fixed list of classes, sorted by their UTF-8 bytes
        /// (the order numpy's `unique` gives, so class indices match
        /// scikit-learn's `LabelEncoder`).
        case classification(classes: [String])
        /// A numeric target, named by its column.
        case regression(target: String)
    }

    /// The folder or file it was read from.
    public var source: String
    /// What every example is: `.text`, `.image` or `.audio`.
    public var kind: InputKind
    public var task: Task
    public var examples: [DatasetExample]
    public var skipped: [SkippedExample]
    /// `DatasetDigest` of the examples: the training data's identity in a head.
    public var sha256: String

    public init(source: String, kind: InputKind, task: Task, examples: [DatasetExample], skipped: [SkippedExample], sha256: String) {
        self.source = source
        self.kind = kind
        self.task = task
        self.examples = examples
        self.skipped = skipped
        self.sha256 = sha256
    }

    /// The classes, in index order; empty for a regression dataset.
    public var classes: [String] {
        if case let .classification(classes) = task { return classes }
        return []
    }

    /// Each example's class index (classification datasets).
    public var labels: [Int] {
        examples.map { example in
            if case let .label(index) = example.target { return index }
            return -1
        }
    }

    /// Each example's numeric target (regression datasets).
    public var values: [Double] {
        examples.map { example in
            if case let .value(value) = example.target { return value }
            return .nan
        }
    }

    /// Examples per class, in class order.
    public var classCounts: [Int] {
        var counts = [Int](repeating: 0, count: classes.count)
        for case let .label(index) in examples.map(\.target) where counts.indices.contains(index) { counts[index] += 1 }
        return counts
    }
}

/// One usable example.
public struct DatasetExample: Sendable, Equatable {
    public enum Input: Sendable, Equatable {
        /// Text to embed: a text file's contents (UTF-8, byte-order mark
        /// removed, exactly as the daemon reads a dropped file) or a table's
        /// text cell.
        case text(String)
        /// A PNG/JPEG image or audio file, read again when its features are computed
        /// (and checked against `sha256`, so a file changed in between is
        /// skipped rather than trained on under another digest).
        case file(String)
    }

    public var input: Input
    public var kind: InputKind
    /// SHA-256 of the input — the file's bytes (what a daemon result reports
    /// as `input.sha256`), or a table cell's UTF-8 — keying the feature cache.
    public var sha256: String
    /// Where it came from, for messages: a file path, or "data.csv line 12".
    public var origin: String
    public var target: DatasetTarget

    public init(input: Input, kind: InputKind, sha256: String, origin: String, target: DatasetTarget) {
        self.input = input
        self.kind = kind
        self.sha256 = sha256
        self.origin = origin
        self.target = target
    }
}

/// What an example is labelled with.
public enum DatasetTarget: Sendable, Equatable {
    /// An index into the dataset's classes.
    case label(Int)
    case value(Double)
}

/// An example left out, with the reason. Reading goes on without it; the
/// list is reported so nothing is dropped silently.
public struct SkippedExample: Error, Sendable, Equatable {
    public enum Reason: String, Sendable, CaseIterable {
        /// The file cannot be read (missing, permissions, not a regular file).
        case unreadable
        /// A file of no bytes.
        case empty
        /// Text that is empty or only white space.
        case emptyText = "empty_text"
        /// Text-like bytes that are not UTF-8.
        case notUTF8 = "not_utf8"
        /// Bytes that are no PNG or JPEG, audio libsndfile reads, or UTF-8 text.
        case unrecognized
        /// A file of another kind than the dataset's (with the kind option).
        case otherKind = "other_kind"
        /// A PNG/JPEG image or audio file that fails to decode (found by its probe, or
        /// when its features are computed).
        case undecodable
        /// Over one of the daemon's input limits (bytes, pixels, seconds, characters).
        case tooLarge = "too_large"
        /// A row without the text or path its column should hold.
        case noInput = "no_input"
        /// A row without a label.
        case noLabel = "no_label"
        /// A regression target that is not a finite number.
        case invalidTarget = "invalid_target"
        /// A `.part` or `.tmp` file: an unfinished download or copy.
        case temporaryFile = "temporary_file"
        /// A file (or a link's target) outside the folders a `train`
        /// request may read: never opened.
        case outsideAllowedFolders = "outside_allowed_folders"
        /// A file directly in the dataset folder, not in a `<label>/` folder.
        case outsideLabelFolder = "outside_label_folder"
        /// The file changed after the dataset was read.
        case changed
        /// The feature model failed on this input.
        case featureFailed = "feature_failed"
    }

    /// A file path, or "data.csv line 12".
    public var origin: String
    public var reason: Reason
    /// The specific fault, e.g. the decoder's message.
    public var detail: String

    public init(origin: String, reason: Reason, detail: String) {
        self.origin = origin
        self.reason = reason
        self.detail = detail
    }
}
