import Foundation
import QuernJSON

/// Which pipeline's vectors a head reads: MiniLM sentence embeddings (text),
/// the image model's pooled features (image) or Whisper's encoder embedding
/// (audio).
public enum FeatureKind: String, Sendable, CaseIterable {
    case text, image, audio
}

/// The model whose vectors a head was trained on. A head only runs beside
/// the same weights (`sha256` of the weights file, as results report it).
public struct FeatureModel: Sendable, Equatable {
    public var name: String
    public var sha256: String
    public var kind: FeatureKind
    /// How the vectors were made when the model has a choice, e.g. `windows`
    /// or `truncate` for long texts; nil when it has none.
    public var variant: String?

    public init(name: String, sha256: String, kind: FeatureKind, variant: String? = nil) {
        self.name = name
        self.sha256 = sha256
        self.kind = kind
        self.variant = variant
    }
}

/// What the head was trained on: the dataset's checksum, its size and the
/// examples per class (none for a regression head).
public struct TrainingData: Sendable, Equatable {
    public var sha256: String
    public var examples: Int
    /// In class order.
    public var classCounts: [(name: String, count: Int)]

    public init(sha256: String, examples: Int, classCounts: [(name: String, count: Int)]) {
        self.sha256 = sha256
        self.examples = examples
        self.classCounts = classCounts
    }

    public static func == (a: TrainingData, b: TrainingData) -> Bool {
        a.sha256 == b.sha256 && a.examples == b.examples
            && a.classCounts.map(\.name) == b.classCounts.map(\.name) && a.classCounts.map(\.count) == b.classCounts.map(\.count)
    }
}

/// Everything head.json says about a head besides its weights: what it
/// predicts, its shape, how and on what it was trained, and how well it did
/// on held-out data. Format `quern-head`, version 1:
///
///     {"format": "quern-head", "format_version": 1, "name", "task", "classes",
///      "architecture": {"kind", "input_width", "hidden_width", "activation", "output_width"},
///      "hyper_parameters": {…}, "feature_model": {"name", "sha256", "kind", "variant"},
///      "training_data": {"sha256", "examples", "class_counts": {…}},
///      "metrics": {…}, "history": [{"epoch", "train_loss", …}], "quern_version", "created"}
///
/// `hyper_parameters` and `metrics` are free JSON objects (the trainer's
/// settings, the held-out evaluation); everything else is checked.
public struct HeadManifest: Sendable, Equatable {
    public static let format = "quern-head"
    public static let formatVersion = 1

    /// Also the head's folder name (see `HeadName`).
    public var name: String
    /// Class names in output order; empty for a regression head.
    public var classes: [String]
    /// Its `task` is head.json's `task`.
    public var architecture: HeadArchitecture
    /// A JSON object: the trainer's settings as it ran.
    public var hyperParameters: JSONValue
    public var featureModel: FeatureModel
    public var trainingData: TrainingData
    /// A JSON object: the evaluation on the held-out split.
    public var metrics: JSONValue
    /// The training run, epoch by epoch (may be empty).
    public var history: [EpochRecord]
    public var quernVersion: String
    public var created: Date

    public init(name: String, classes: [String], architecture: HeadArchitecture, hyperParameters: JSONValue = .object([]),
                featureModel: FeatureModel, trainingData: TrainingData, metrics: JSONValue = .object([]), history: [EpochRecord] = [],
                quernVersion: String, created: Date) {
        self.name = name
        self.classes = classes
        self.architecture = architecture
        self.hyperParameters = hyperParameters
        self.featureModel = featureModel
        self.trainingData = trainingData
        self.metrics = metrics
        self.history = history
        self.quernVersion = quernVersion
        self.created = created
    }

    public var task: HeadTask { architecture.task }

    /// Widest layer head.json may declare: far above any embedding, small
    /// enough that no size computed from it overflows.
    static let maximumWidth = 1 << 20
}

// MARK: Writing

extension HeadManifest {
    public var json: JSONValue {
        let architectureMembers: [(key: String, value: JSONValue)] = [
            ("kind", .string(architecture.kindName)),
            ("input_width", .int(architecture.inputWidth)),
            ("hidden_width", architecture.hiddenWidth.map(JSONValue.int) ?? .null),
            ("activation", architecture.hiddenWidth == nil ? .null : .string(architecture.activation.rawValue)),
            ("output_width", .int(architecture.outputWidth)),
        ]
        let history = history.map { record -> JSONValue in
            .object([
                ("epoch", .int(record.epoch)), ("train_loss", .double(record.trainLoss)),
                ("validation_loss", record.validationLoss.map(JSONValue.double) ?? .null),
                ("train_accuracy", record.trainAccuracy.map(JSONValue.double) ?? .null),
                ("validation_accuracy", record.validationAccuracy.map(JSONValue.double) ?? .null),
                ("learning_rate", .double(record.learningRate)),
            ])
        }
        return .object([
            ("format", .string(Self.format)),
            ("format_version", .int(Self.formatVersion)),
            ("name", .string(name)),
            ("task", .string(task.rawValue)),
            ("classes", .array(classes.map(JSONValue.string))),
            ("architecture", .object(architectureMembers)),
            ("hyper_parameters", hyperParameters),
            ("feature_model", .object([
                ("name", .string(featureModel.name)), ("sha256", .string(featureModel.sha256)),
                ("kind", .string(featureModel.kind.rawValue)), ("variant", .optional(featureModel.variant)),
            ])),
            ("training_data", .object([
                ("sha256", .string(trainingData.sha256)), ("examples", .int(trainingData.examples)),
                ("class_counts", .object(trainingData.classCounts.map { ($0.name, JSONValue.int($0.count)) })),
            ])),
            ("metrics", metrics),
            ("history", .array(history)),
            ("quern_version", .string(quernVersion)),
            ("created", .string(Self.timestamp(created))),
        ])
    }

    /// RFC 3339 in UTC, to the second.
    static func timestamp(_ date: Date) -> String {
        var style = Date.ISO8601FormatStyle()
        style.timeZone = TimeZone(identifier: "UTC") ?? style.timeZone
        return date.formatted(style)
    }
}

// MARK: Reading

extension HeadManifest {
    /// Reads and checks a parsed head.json; `file` names it in every error.
    /// The format and its version are checked first, so a head from a newer
    /// Quern is refused for what it is, not for a key this one does not know.
    public init(json document: JSONValue, file: String) throws(LearningError) {
        let root = try ManifestReader(document, file: file)
        let format = try root.string("format")
        guard format == Self.format else {
            throw root.error("format", "this is not a Quern head (format \"\(format.prefix(80))\", expected \"\(Self.format)\")")
        }
        let version = try root.integer("format_version", in: 1...Int.max)
        guard version == Self.formatVersion else {
            throw root.error("format_version", "this head is format version \(version); this Quern reads version \(Self.formatVersion) only — use the Quern that trained it, or retrain it with this one")
        }
        try root.onlyKeys(["format", "format_version", "name", "task", "classes", "architecture", "hyper_parameters", "feature_model",
                           "training_data", "metrics", "history", "quern_version", "created"])

        name = try root.string("name")
        if let problem = HeadName.problem(with: name) { throw root.error("name", problem) }
        let task = try root.choice("task", HeadTask.self)
        classes = try Self.classes(root, task: task)
        architecture = try Self.architecture(try root.object("architecture"), task: task, classes: classes)
        hyperParameters = try root.required("hyper_parameters")
        guard hyperParameters.objectValue != nil else { throw root.error("hyper_parameters", "expected an object, got \(hyperParameters.typeName)") }
        featureModel = try Self.featureModel(try root.object("feature_model"))
        trainingData = try Self.trainingData(try root.object("training_data"), classes: classes)
        metrics = try root.required("metrics")
        guard metrics.objectValue != nil else { throw root.error("metrics", "expected an object, got \(metrics.typeName)") }
        history = try Self.history(root)
        quernVersion = try root.string("quern_version")
        let createdText = try root.string("created")
        guard let date = Self.date(createdText) else {
            throw root.error("created", "expected an RFC 3339 UTC time such as 2026-05-01T12:00:00Z, got \"\(createdText.prefix(80))\"")
        }
        created = date
    }

    private static func classes(_ root: ManifestReader, task: HeadTask) throws(LearningError) -> [String] {
        var classes: [String] = []
        for (position, element) in try root.array("classes").enumerated() {
            guard let name = element.stringValue, !name.isEmpty else {
                throw root.error("classes[\(position)]", "expected a non-empty class name, got \(element.typeName)")
            }
            guard !classes.contains(name) else { throw root.error("classes[\(position)]", "class \"\(name)\" is listed twice") }
            classes.append(name)
        }
        switch task {
        case .classification where classes.count < 2:
            throw root.error("classes", "a classification head needs at least 2 classes, got \(classes.count)")
        case .regression where !classes.isEmpty:
            throw root.error("classes", "a regression head has no classes, got \(classes.count)")
        default:
            return classes
        }
    }

    private static func architecture(_ reader: ManifestReader, task: HeadTask, classes: [String]) throws(LearningError) -> HeadArchitecture {
        try reader.onlyKeys(["kind", "input_width", "hidden_width", "activation", "output_width"])
        let kind = try reader.string("kind")
        let input = try reader.integer("input_width", in: 1...maximumWidth)
        let hidden = try reader.optionalInteger("hidden_width", in: 1...maximumWidth)
        let output = try reader.integer("output_width", in: 1...maximumWidth)
        let activationText = try reader.optionalString("activation")
        let expectedKind = hidden != nil ? "mlp" : (task == .classification ? "logistic" : "linear")
        guard ["logistic", "linear", "mlp"].contains(kind) else {
            throw reader.error("kind", "unknown value \"\(kind.prefix(80))\" (expected one of: logistic, linear, mlp)")
        }
        guard kind == expectedKind else {
            let why = hidden != nil ? "it has a hidden_width" : "it has no hidden_width and its task is \(task.rawValue)"
            throw reader.error("kind", "\"\(kind)\" does not fit the rest of the head: \(why), so it is \"\(expectedKind)\"")
        }
        var activation = HeadActivation.relu
        if hidden != nil {
            guard let activationText else { throw reader.error("activation", "an mlp head names its activation (relu or gelu)") }
            guard let chosen = HeadActivation(rawValue: activationText) else {
                throw reader.error("activation", "unknown value \"\(activationText.prefix(80))\" (expected one of: relu, gelu)")
            }
            activation = chosen
        } else if activationText != nil {
            throw reader.error("activation", "a \(kind) head has no hidden layer, so no activation (null)")
        }
        if task == .classification, output != classes.count {
            throw reader.error("output_width", "the head has \(output) outputs but \(classes.count) classes")
        }
        do {
            return try HeadArchitecture(task: task, inputWidth: input, hiddenWidth: hidden, activation: activation, outputWidth: output)
        } catch {
            throw reader.error(nil, error.message)
        }
    }

    private static func featureModel(_ reader: ManifestReader) throws(LearningError) -> FeatureModel {
        try reader.onlyKeys(["name", "sha256", "kind", "variant"])
        let name = try reader.string("name")
        guard !name.isEmpty else { throw reader.error("name", "the feature model's name must not be empty") }
        return FeatureModel(name: name, sha256: try reader.sha256("sha256"), kind: try reader.choice("kind", FeatureKind.self),
                            variant: try reader.optionalString("variant"))
    }

    private static func trainingData(_ reader: ManifestReader, classes: [String]) throws(LearningError) -> TrainingData {
        try reader.onlyKeys(["sha256", "examples", "class_counts"])
        let counts = try reader.object("class_counts")
        var classCounts: [(name: String, count: Int)] = []
        for (name, value) in counts.members {
            guard classes.contains(name) else {
                throw counts.error(name, "\"\(name.prefix(80))\" is not one of the head's classes (\(classes.joined(separator: ", ")))")
            }
            classCounts.append((name, try counts.integer(value, key: name, in: 0...Int.max)))
        }
        return TrainingData(sha256: try reader.sha256("sha256"), examples: try reader.integer("examples", in: 1...Int.max), classCounts: classCounts)
    }

    private static func history(_ root: ManifestReader) throws(LearningError) -> [EpochRecord] {
        guard root.optional("history") != nil else { return [] }
        var records: [EpochRecord] = []
        for (position, element) in try root.array("history").enumerated() {
            let record = try ManifestReader(element, file: root.file, path: "history[\(position)]")
            try record.onlyKeys(["epoch", "train_loss", "validation_loss", "train_accuracy", "validation_accuracy", "learning_rate"])
            records.append(EpochRecord(
                epoch: try record.integer("epoch", in: 1...Int.max), trainLoss: try record.number("train_loss"),
                validationLoss: try record.optionalNumber("validation_loss"), trainAccuracy: try record.optionalNumber("train_accuracy"),
                validationAccuracy: try record.optionalNumber("validation_accuracy"), learningRate: try record.number("learning_rate")))
        }
        return records
    }

    /// An RFC 3339 UTC time, with or without fractional seconds.
    static func date(_ text: String) -> Date? {
        guard text.hasSuffix("Z") else { return nil }
        if let whole = try? Date(text, strategy: Date.ISO8601FormatStyle()) { return whole }
        return try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
