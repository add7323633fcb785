import QuernJSON
import QuernLearning

/// The hyper-parameters and dataset options of a training run, one row
/// each: its snake_case key (a `train` request's field; `quern train`'s flag
/// is the key with dashes, `--learning-rate`), what it means, and how its
/// value is checked and applied to a `TrainingPlan`. A key outside this
/// table is an unknown field, named.
public enum TrainingParameters {
    public struct Parameter: Sendable {
        public let key: String
        /// What the value looks like, for help texts ("N", "logistic|mlp").
        public let valueName: String
        public let help: String
        let apply: @Sendable (Fields, inout TrainingPlan) throws(QuernError) -> Void

        /// `--learning-rate` for `learning_rate`.
        public var flag: String { "--" + key.replacingOccurrences(of: "_", with: "-") }
    }

    public static let table: [Parameter] = [
        Parameter(key: "head", valueName: "logistic|mlp", help: "logistic regression (default) or a one-hidden-layer MLP") { fields, plan throws(QuernError) in
            if let value = try choice(fields, "head", TrainingPlan.HeadShape.self) { plan.head = value }
        },
        Parameter(key: "hidden", valueName: "N", help: "the MLP's hidden units (default 256)") { fields, plan throws(QuernError) in
            if let value = try fields.optionalInteger("hidden", range: 1...65_536) { plan.hiddenWidth = value }
        },
        Parameter(key: "activation", valueName: "relu|gelu", help: "the MLP's activation (default relu)") { fields, plan throws(QuernError) in
            if let value = try choice(fields, "activation", HeadActivation.self) { plan.activation = value }
        },
        Parameter(key: "epochs", valueName: "N", help: "passes over the training split (default 50; fewer with early stopping)") { fields, plan throws(QuernError) in
            if let value = try fields.optionalInteger("epochs", range: 1...100_000) { plan.training.epochs = value }
        },
        Parameter(key: "batch_size", valueName: "N", help: "examples per mini-batch (default 64)") { fields, plan throws(QuernError) in
            if let value = try fields.optionalInteger("batch_size", range: 1...1_000_000) { plan.training.batchSize = value }
        },
        Parameter(key: "learning_rate", valueName: "RATE", help: "the base learning rate (default 0.001)") { fields, plan throws(QuernError) in
            if let value = try positive(fields, "learning_rate", upTo: 100) { plan.training.learningRate = value }
        },
        Parameter(key: "optimiser", valueName: "sgd|adam|adamw", help: "the update rule (default adamw)") { fields, plan throws(QuernError) in
            if let value = try choice(fields, "optimiser", OptimiserKind.self) { plan.training.optimiser.kind = value }
        },
        Parameter(key: "momentum", valueName: "M", help: "SGD's momentum (default 0)") { fields, plan throws(QuernError) in
            if let value = try fields.optionalNumber("momentum", range: 0...0.999_999) { plan.training.optimiser.momentum = value }
        },
        Parameter(key: "nesterov", valueName: "true|false", help: "Nesterov momentum for SGD (default false)") { fields, plan throws(QuernError) in
            if let value = try fields.optionalBool("nesterov") { plan.training.optimiser.nesterov = value }
        },
        Parameter(key: "beta1", valueName: "B", help: "Adam's β1 (default 0.9)") { fields, plan throws(QuernError) in
            if let value = try fields.optionalNumber("beta1", range: 0...0.999_999) { plan.training.optimiser.beta1 = value }
        },
        Parameter(key: "beta2", valueName: "B", help: "Adam's β2 (default 0.999)") { fields, plan throws(QuernError) in
            if let value = try fields.optionalNumber("beta2", range: 0...0.999_999_999) { plan.training.optimiser.beta2 = value }
        },
        Parameter(key: "epsilon", valueName: "E", help: "Adam's ε (default 1e-8)") { fields, plan throws(QuernError) in
            if let value = try positive(fields, "epsilon", upTo: 1) { plan.training.optimiser.epsilon = value }
        },
        Parameter(key: "weight_decay", valueName: "λ", help: "L2 weight decay on weights (default 1e-4; decoupled with adamw)") { fields, plan throws(QuernError) in
            if let value = try fields.optionalNumber("weight_decay", range: 0...10) { plan.training.weightDecay = value }
        },
        Parameter(key: "dropout", valueName: "P", help: "dropout on the hidden layer (on a linear head's inputs), default 0") { fields, plan throws(QuernError) in
            if let value = try fields.optionalNumber("dropout", range: 0...0.99) { plan.training.dropout = value }
        },
        Parameter(key: "class_weights", valueName: "uniform|balanced", help: "cross-entropy's class weights; balanced = n/(classes·count) for imbalanced data") { fields, plan throws(QuernError) in
            guard let value = try fields.optionalString("class_weights") else { return }
            switch value {
            case "uniform": plan.training.classWeighting = .uniform
            case "balanced": plan.training.classWeighting = .balanced
            default: throw QuernError(.requestInvalidValue, "field \"class_weights\": \"\(value.prefix(80))\" is not one of: uniform, balanced")
            }
        },
        Parameter(key: "label_smoothing", valueName: "ε", help: "cross-entropy's label smoothing (default 0)") { fields, plan throws(QuernError) in
            if let value = try fields.optionalNumber("label_smoothing", range: 0...1) { plan.training.labelSmoothing = value }
        },
        Parameter(key: "schedule", valueName: "constant|cosine|step", help: "the learning rate after warm-up (default constant)") { fields, plan throws(QuernError) in
            guard let value = try fields.optionalString("schedule") else { return }
            switch value {
            case "constant": plan.training.schedule.decay = .constant
            case "cosine": plan.training.schedule.decay = .cosine(minimum: 0)
            case "step": plan.training.schedule.decay = .step(everyEpochs: 10, factor: 0.1)
            default: throw QuernError(.requestInvalidValue, "field \"schedule\": \"\(value.prefix(80))\" is not one of: constant, cosine, step")
            }
        },
        Parameter(key: "min_learning_rate", valueName: "RATE", help: "the cosine schedule's floor (default 0)") { fields, plan throws(QuernError) in
            guard let value = try fields.optionalNumber("min_learning_rate", range: 0...100) else { return }
            guard case .cosine = plan.training.schedule.decay else { throw needs("min_learning_rate", "\"schedule\": \"cosine\"") }
            plan.training.schedule.decay = .cosine(minimum: value)
        },
        Parameter(key: "step_epochs", valueName: "K", help: "the step schedule's period in epochs (default 10)") { fields, plan throws(QuernError) in
            guard let value = try fields.optionalInteger("step_epochs", range: 1...100_000) else { return }
            guard case let .step(_, factor) = plan.training.schedule.decay else { throw needs("step_epochs", "\"schedule\": \"step\"") }
            plan.training.schedule.decay = .step(everyEpochs: value, factor: factor)
        },
        Parameter(key: "step_factor", valueName: "γ", help: "the step schedule's factor (default 0.1)") { fields, plan throws(QuernError) in
            guard let value = try positive(fields, "step_factor", upTo: 1) else { return }
            guard case let .step(every, _) = plan.training.schedule.decay else { throw needs("step_factor", "\"schedule\": \"step\"") }
            plan.training.schedule.decay = .step(everyEpochs: every, factor: value)
        },
        Parameter(key: "warmup_steps", valueName: "N", help: "linear learning-rate warm-up over the first N steps (default 0)") { fields, plan throws(QuernError) in
            if let value = try fields.optionalInteger("warmup_steps", range: 0...10_000_000) { plan.training.schedule.warmupSteps = value }
        },
        Parameter(key: "patience", valueName: "N", help: "stop after N epochs without a lower validation loss, best weights restored (default 10; 0 = never)") { fields, plan throws(QuernError) in
            if let value = try fields.optionalInteger("patience", range: 0...100_000) { plan.training.patience = value == 0 ? nil : value }
        },
        Parameter(key: "seed", valueName: "N", help: "seeds the splits, initial weights, shuffling and dropout (default 0)") { fields, plan throws(QuernError) in
            if let value = try fields.optionalSeed("seed") { plan.training.seed = value }
        },
        Parameter(key: "test_fraction", valueName: "F", help: "held out for the test metrics when no test set is given (default 0.2)") { fields, plan throws(QuernError) in
            if let value = try fields.optionalNumber("test_fraction", range: 0.01...0.9) { plan.testFraction = value }
        },
        Parameter(key: "validation_fraction", valueName: "F", help: "of the training split, held out for early stopping (default 0.1; 0 = none)") { fields, plan throws(QuernError) in
            if let value = try fields.optionalNumber("validation_fraction", range: 0...0.9) { plan.validationFraction = value }
        },
        Parameter(key: "folds", valueName: "K", help: "also run stratified K-fold cross-validation on the training split and report mean ± std") { fields, plan throws(QuernError) in
            if let value = try fields.optionalInteger("folds", range: 2...100) { plan.folds = value }
        },
        Parameter(key: "text_column", valueName: "NAME", help: "a table's text column (default \"text\")") { fields, plan throws(QuernError) in
            if let value = try fields.optionalString("text_column") { plan.textColumn = value }
        },
        Parameter(key: "path_column", valueName: "NAME", help: "a table's file-path column, paths relative to the table (default \"path\" or \"file\")") { fields, plan throws(QuernError) in
            if let value = try fields.optionalString("path_column") { plan.pathColumn = value }
        },
        Parameter(key: "label_column", valueName: "NAME", help: "a table's label column (default \"label\")") { fields, plan throws(QuernError) in
            if let value = try fields.optionalString("label_column") { plan.labelColumn = value }
        },
        Parameter(key: "target_column", valueName: "NAME", help: "a numeric target column: trains a regression head (MSE) instead of a classifier") { fields, plan throws(QuernError) in
            if let value = try fields.optionalString("target_column") { plan.targetColumn = value }
        },
        Parameter(key: "kind", valueName: "text|image|audio", help: "train on the examples of this kind and skip the others (default: a dataset must hold one kind)") { fields, plan throws(QuernError) in
            guard let value = try fields.optionalString("kind") else { return }
            guard let kind = InputKind(rawValue: value), [.text, .image, .audio].contains(kind) else {
                throw QuernError(.requestInvalidValue, "field \"kind\": \"\(value.prefix(80))\" is not one of: text, image, audio")
            }
            plan.kind = kind
        },
        Parameter(key: "truncate", valueName: "true|false", help: "embed only a long text's first window, as sentence-transformers does (default: mean of windows, as the daemon embeds plain text)") { fields, plan throws(QuernError) in
            if let value = try fields.optionalBool("truncate") { plan.truncate = value }
        },
    ]

    /// Every key, in table order.
    public static var keys: [String] { table.map(\.key) }

    /// `plan` with `members` applied (in table order, so a schedule is set
    /// before its floor), each checked; unknown keys are left to the caller.
    public static func apply(_ members: [(key: String, value: JSONValue)], to plan: TrainingPlan) throws(QuernError) -> TrainingPlan {
        var plan = plan
        let fields = Fields(members)
        for parameter in table { try parameter.apply(fields, &plan) }
        if plan.head != .mlp, members.contains(where: { ["hidden", "activation"].contains($0.key) }) {
            throw QuernError(.requestInvalidValue, "\"hidden\" and \"activation\" shape an mlp head's hidden layer; add \"head\": \"mlp\" or leave them out")
        }
        do { try plan.training.validate() } catch { throw QuernError(.requestInvalidValue, error.message) }
        return plan
    }

    /// A command-line value as the JSON value a request would carry: a
    /// number or true/false when it reads as one, else a string.
    public static func value(fromArgument text: String) -> JSONValue {
        if text == "true" { return .bool(true) }
        if text == "false" { return .bool(false) }
        if let number = Double(text), number.isFinite, !text.hasPrefix("+"), !text.hasPrefix(".") { return .number(text) }
        return .string(text)
    }

    /// The present hyper-parameters of a request, checked against a scratch
    /// plan, as an object in table order with the values as written.
    static func parse(_ fields: Fields) throws(QuernError) -> JSONValue {
        let members = keys.compactMap { key in fields[key].flatMap { $0 == .null ? nil : (key, $0) } }
        _ = try apply(members, to: TrainingPlan(data: "", name: ""))
        return .object(members)
    }

    private static func choice<Choice: RawRepresentable & CaseIterable>(_ fields: Fields, _ key: String, _ type: Choice.Type) throws(QuernError) -> Choice? where Choice.RawValue == String {
        guard let text = try fields.optionalString(key) else { return nil }
        guard let value = Choice(rawValue: text) else {
            throw QuernError(.requestInvalidValue, "field \"\(key)\": \"\(text.prefix(80))\" is not one of: \(Choice.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }

    private static func positive(_ fields: Fields, _ key: String, upTo limit: Double) throws(QuernError) -> Double? {
        guard let value = try fields.optionalNumber(key, range: 0...limit) else { return nil }
        guard value > 0 else { throw QuernError(.requestInvalidValue, "field \"\(key)\" must be above 0") }
        return value
    }

    private static func needs(_ key: String, _ other: String) -> QuernError {
        QuernError(.requestInvalidValue, "field \"\(key)\" needs \(other)")
    }
}
