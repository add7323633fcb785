import QuernJSON
import QuernLearning

/// Everything one training run is told: where the data is, which head to
/// train and how. `quern train`'s flags and a `train` request's fields fill
/// it through the same table (`TrainingParameters`), so both accept the same
/// names, ranges and defaults.
public struct TrainingPlan: Sendable {
    public enum HeadShape: String, Sendable, CaseIterable {
        /// Multinomial logistic regression (a linear regression for a numeric target).
        case logistic
        /// One hidden layer.
        case mlp
    }

    /// The dataset: a folder of `<label>/<files>` or a .jsonl/.csv/.tsv file.
    public var data: String
    /// An explicit test set; without one, `testFraction` of `data` is held out.
    public var test: String?
    /// An explicit validation set for early stopping; without one,
    /// `validationFraction` of the training split is held out.
    public var validation: String?
    public var name: String

    public var head: HeadShape = .logistic
    public var hiddenWidth = 256
    public var activation: HeadActivation = .relu
    /// Defaults tuned on the sentence-embedding heads (see docs/learning.md):
    /// AdamW, learning rate 1e-3, 50 epochs of 64, weight decay 1e-4,
    /// early stopping after 10 epochs without a lower validation loss.
    public var training: TrainingOptions = {
        var options = TrainingOptions()
        options.weightDecay = 1e-4
        return options
    }()
    public var testFraction = 0.2
    public var validationFraction = 0.1
    /// Stratified K-fold cross-validation on the training split (nil: none).
    public var folds: Int?

    /// Table columns (jsonl/csv/tsv): the text, or a file path relative to
    /// the table; the label; or a numeric target (a regression head).
    public var textColumn: String?
    public var pathColumn: String?
    public var labelColumn = "label"
    public var targetColumn: String?
    /// Keep only this kind of example (the others are skipped); nil: the
    /// dataset must hold one kind.
    public var kind: InputKind?
    /// Embed long texts as sentence-transformers does (first window only)
    /// instead of the mean of windows; the daemon's heads then need
    /// `"truncate": true` requests, so only for embed-request workflows.
    public var truncate = false

    public init(data: String, name: String) {
        self.data = data
        self.name = name
    }

    /// A regression head when a numeric target column is named.
    public var task: HeadTask { targetColumn == nil ? .classification : .regression }

    /// The head's shape for `inputWidth` features and `outputWidth` outputs.
    public func architecture(inputWidth: Int, outputWidth: Int) throws(LearningError) -> HeadArchitecture {
        try HeadArchitecture(task: task, inputWidth: inputWidth, hiddenWidth: head == .mlp ? hiddenWidth : nil,
                             activation: activation, outputWidth: outputWidth)
    }

    /// Every choice that shapes the head, under the table's names, for head.json.
    public var hyperParameters: JSONValue {
        var members: [(key: String, value: JSONValue)] = [("head", .string(head.rawValue))]
        if head == .mlp {
            members += [("hidden", .int(hiddenWidth)), ("activation", .string(activation.rawValue))]
        }
        if case let .object(options) = training.jsonDescription { members += options }
        members += [("test_fraction", test == nil ? .double(testFraction) : .null),
                    ("validation_fraction", validation == nil ? .double(validationFraction) : .null),
                    ("folds", folds.map(JSONValue.int) ?? .null),
                    ("truncate", .bool(truncate))]
        return .object(members)
    }
}
