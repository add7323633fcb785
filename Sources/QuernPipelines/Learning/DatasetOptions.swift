/// How to read a dataset. The defaults read a folder of `<label>/<files>`,
/// or a table with a `text` (or `path`/`file`) column and a `label` column.
public struct DatasetOptions: Sendable, Equatable {
    /// The column holding the text of each example. Default: `text`.
    public var textColumn: String?
    /// The column holding a file path (relative to the data file's folder,
    /// or absolute). Default, when there is no text column: `path`, else `file`.
    public var pathColumn: String?
    /// The column holding the class label.
    public var labelColumn: String
    /// The column holding a numeric target; setting it makes the dataset a
    /// regression dataset (and the label column unused).
    public var targetColumn: String?
    /// Keep only examples of this kind and skip the others (reason
    /// `other_kind`); nil: every example must be of one kind.
    public var kind: InputKind?
    /// The daemon's input limits, applied to every example file.
    public var limits: InputLimits
    /// Fewest examples a class of a training set may have: one to train on
    /// and one to test on.
    public var minimumExamplesPerClass: Int
    /// For a `train` request: only files whose real path (links followed)
    /// lies inside these folders are opened; the others are skipped.
    /// nil: any file (`quern train`, run by the user themself).
    public var allowedFolders: TrainingDataFolders?

    public init(textColumn: String? = nil, pathColumn: String? = nil, labelColumn: String = "label", targetColumn: String? = nil,
                kind: InputKind? = nil, limits: InputLimits = InputLimits(), minimumExamplesPerClass: Int = 2) {
        self.textColumn = textColumn
        self.pathColumn = pathColumn
        self.labelColumn = labelColumn
        self.targetColumn = targetColumn
        self.kind = kind
        self.limits = limits
        self.minimumExamplesPerClass = minimumExamplesPerClass
    }
}

/// What a dataset is read for.
public enum DatasetRole: Sendable, Equatable {
    /// A training set: its labels define the classes, each class needs
    /// `minimumExamplesPerClass` examples and there must be two classes.
    case training
    /// A test or validation set for a head (or a training set) with this
    /// task and kind: its examples take the given classes' indices, a label
    /// outside them is an error, and any class may be missing or small.
    /// A regression set's target column defaults to the head's.
    case evaluation(task: Dataset.Task, kind: InputKind?)
}
