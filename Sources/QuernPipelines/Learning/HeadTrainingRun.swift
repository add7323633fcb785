import Foundation
import QuernJSON
import QuernLearning
import QuernTensor

/// One training run, from a `TrainingPlan` to a head folder: read the
/// dataset (and the test/validation sets), take every example's features
/// through the daemon's own pipeline (cached), hold out the test split
/// (explicit, or a seeded stratified fraction), optionally cross-validate,
/// hold out a validation split for early stopping, train, evaluate on the
/// test split, and write the head with its head.json and report.svg.
/// `quern train` and the daemon's `train` task both run this.
public struct HeadTrainingRun: Sendable {
    /// The datasets of a plan, read and checked.
    public struct Data: Sendable {
        public var training: Dataset
        public var test: Dataset?
        public var validation: Dataset?
    }

    public struct Outcome: Sendable {
        public var headFile: HeadFile
        /// Where the head was written.
        public var folder: String
        public var evaluation: HeadEvaluation
        public var crossValidation: CrossValidationSummary?
        public var training: TrainingResult
        /// The report.svg written beside the head.
        public var report: String
        /// What `--json` prints and a `train` task's result carries.
        public var json: JSONValue
        /// The raw features of the examples trained on (training and
        /// validation splits) and of the test split.
        public var development: LabelledFeatures
        public var test: LabelledFeatures
    }

    public let plan: TrainingPlan
    /// Progress lines and notes (skipped examples, split sizes, epochs).
    public let log: @Sendable (String) -> Void
    /// Makes the progress reporter of a long step (label, total, unit).
    public let progress: @Sendable (String, Int, String) -> ProgressReporter
    public let quernVersion: String

    public init(plan: TrainingPlan, quernVersion: String, log: @escaping @Sendable (String) -> Void,
                progress: @escaping @Sendable (String, Int, String) -> ProgressReporter) {
        self.plan = plan
        self.quernVersion = quernVersion
        self.log = log
        self.progress = progress
    }

    /// The plan's datasets: the training set defines the classes; the test
    /// and validation sets must use them (and be of the same kind).
    /// `allowedFolders`: a `train` request's, whose datasets may open only
    /// files inside them.
    public func readData(limits: InputLimits, allowedFolders: TrainingDataFolders? = nil) throws(QuernError) -> Data {
        var options = DatasetOptions(textColumn: plan.textColumn, pathColumn: plan.pathColumn, labelColumn: plan.labelColumn,
                                     targetColumn: plan.targetColumn, kind: plan.kind, limits: limits)
        options.allowedFolders = allowedFolders
        let training = try Self.read(plan.data, options: options, role: .training)
        options.kind = training.kind
        let role = DatasetRole.evaluation(task: training.task, kind: training.kind)
        let test = try plan.test.map { path throws(QuernError) in try Self.read(path, options: options, role: role) }
        let validation = try plan.validation.map { path throws(QuernError) in try Self.read(path, options: options, role: role) }
        return Data(training: training, test: test, validation: validation)
    }

    /// Trains on `data` with features from `extractor`, writes the head to
    /// `folder` and returns what happened.
    public func run(_ data: Data, extractor: FeatureExtractor, cache: FeatureCache?, folder: String) async throws(QuernError) -> Outcome {
        let started = Self.now()
        let dataset = data.training
        let classes = dataset.classes
        log("\(dataset.source): \(dataset.examples.count) \(dataset.kind.rawValue) examples" + classSummary(dataset) + SkippedSummary.describe(dataset.skipped))

        let (trainingSet, extractionSkipped) = try await features(of: dataset, extractor: extractor, cache: cache, role: "training")
        var explicitTest: LabelledFeatures?
        if let set = data.test { explicitTest = try await features(of: set, extractor: extractor, cache: cache, role: "test").features }
        var explicitValidation: LabelledFeatures?
        if let set = data.validation { explicitValidation = try await features(of: set, extractor: extractor, cache: cache, role: "validation").features }

        // The test split: the explicit set, or a held-out fraction.
        let development: LabelledFeatures
        let test: LabelledFeatures
        let testSource: String
        if let explicitTest {
            (development, test) = (trainingSet, explicitTest)
            testSource = data.test?.source ?? ""
        } else {
            let heldOut = try learning { () throws(LearningError) -> DataSplit in try split(trainingSet.targets, fraction: plan.testFraction) }
            (development, test) = (trainingSet.selecting(heldOut.train), trainingSet.selecting(heldOut.test))
            testSource = "\(Int((plan.testFraction * 100).rounded()))% held out (stratified, seed \(plan.training.seed))"
        }

        let architecture = try learning { () throws(LearningError) in
            try plan.architecture(inputWidth: extractor.width, outputWidth: classes.isEmpty ? 1 : classes.count)
        }
        var crossValidation: CrossValidationSummary?
        if let folds = plan.folds {
            crossValidation = try crossValidate(development, folds: folds, architecture: architecture, classes: classes)
        }

        let (training, validation) = try holdOutValidation(development, explicit: explicitValidation)
        log("training on \(training.count), validating on \(validation?.count ?? 0), testing on \(test.count) (\(testSource))")
        let trainingStarted = Self.now()
        let fitted = try learning { () throws(LearningError) in
            try HeadFitting.fit(architecture: architecture, classes: classes, options: plan.training,
                                training: training, validation: validation) { record in log(Self.describe(record)) }
        }
        let trainingSeconds = Self.now() - trainingStarted
        let evaluation = try learning { () throws(LearningError) in try HeadEvaluation(head: fitted.head, features: test.features, targets: test.targets) }
        log("test: " + evaluation.summary)

        var metrics: [(key: String, value: JSONValue)] = [("test", evaluation.json), ("test_source", .string(testSource))]
        if let crossValidation { metrics.append(("cross_validation", crossValidation.json)) }
        let manifest = HeadManifest(
            name: plan.name, classes: classes, architecture: architecture, hyperParameters: plan.hyperParameters,
            featureModel: FeatureModel(name: extractor.model.name, sha256: extractor.model.weightsSHA256 ?? "",
                                       kind: Self.featureKind(dataset.kind), variant: extractor.variant),
            trainingData: TrainingData(sha256: dataset.sha256, examples: dataset.examples.count,
                                       classCounts: zip(classes, dataset.classCounts).map { ($0, $1) }),
            metrics: .object(metrics), history: fitted.result.history, quernVersion: quernVersion, created: Date())
        let report = TrainingReportSVG(title: "\(plan.name): \(dataset.kind.rawValue) head on \(extractor.model.name)",
                                       history: fitted.result.history, evaluation: evaluation).render()
        let headFile = try learning { () throws(LearningError) in try HeadFile(head: fitted.head, manifest: manifest) }
        try learning { () throws(LearningError) in try headFile.write(to: folder, extraFiles: [("report.svg", Array(report.utf8))]) }

        let skipped = dataset.skipped + extractionSkipped
        let datasetJSON = JSONValue.object([
            ("source", .string(dataset.source)), ("kind", .string(dataset.kind.rawValue)),
            ("examples", .int(dataset.examples.count)), ("sha256", .string(dataset.sha256)),
            ("class_counts", .object(zip(classes, dataset.classCounts).map { ($0, JSONValue.int($1)) })),
            ("skipped", .array(skipped.prefix(100).map(Self.json))),
            ("skipped_count", .int(skipped.count)),
        ])
        let splitJSON = JSONValue.object([
            ("train", .int(training.count)), ("validation", .int(validation?.count ?? 0)),
            ("test", .int(test.count)), ("test_source", .string(testSource)),
        ])
        let featuresJSON = JSONValue.object([
            ("model", .string(extractor.model.name)), ("sha256", .optional(extractor.model.weightsSHA256)),
            ("variant", .string(extractor.variant)), ("width", .int(extractor.width)),
        ])
        let trainingJSON = JSONValue.object([
            ("epochs_run", .int(fitted.result.history.count)), ("best_epoch", .int(fitted.result.bestEpoch)),
            ("stopped_early", .bool(fitted.result.stoppedEarly)), ("seconds", .double(trainingSeconds)),
        ])
        let members: [(key: String, value: JSONValue)] = [
            ("head", .string(plan.name)),
            ("folder", .string(folder)),
            ("task", .string(architecture.task.rawValue)),
            ("classes", .array(classes.map(JSONValue.string))),
            ("architecture", .string(architecture.kindName)),
            ("dataset", datasetJSON),
            ("split", splitJSON),
            ("features", featuresJSON),
            ("training", trainingJSON),
            ("hyper_parameters", plan.hyperParameters),
            ("evaluation", evaluation.json),
            ("cross_validation", crossValidation?.json ?? .null),
            ("seconds", .double(Self.now() - started)),
        ]
        let json = JSONValue.object(members)
        return Outcome(headFile: headFile, folder: folder, evaluation: evaluation, crossValidation: crossValidation,
                       training: fitted.result, report: report, json: json, development: development, test: test)
    }

    // MARK: Steps

    /// The features of every usable example of `dataset`, with its targets,
    /// and the examples whose input failed at feature time.
    private func features(of dataset: Dataset, extractor: FeatureExtractor, cache: FeatureCache?, role: String) async throws(QuernError) -> (features: LabelledFeatures, skipped: [SkippedExample]) {
        let reporter = progress("\(role) features (\(extractor.model.name))", dataset.examples.count, "examples")
        let extracted = try await extractor.extract(dataset.examples, cache: cache, progress: reporter)
        reporter.finish()
        let rate = extracted.computed > 0 ? String(format: ", %.1f examples/s", extracted.computedPerSecond) : ""
        log("\(role) features: \(extracted.vectors.count) of \(dataset.examples.count) (\(extracted.cacheHits) from the cache, \(extracted.computed) computed\(rate))"
            + SkippedSummary.describe(extracted.skipped))
        guard !extracted.vectors.isEmpty else {
            throw QuernError(.trainingInvalidDataset, "\(dataset.source): no \(role) example gave features" + SkippedSummary.describe(extracted.skipped))
        }
        let targets: TrainingTargets
        switch dataset.task {
        case .classification: targets = .classes(extracted.exampleIndices.map { dataset.labels[$0] })
        case .regression: targets = .values(extracted.exampleIndices.map { Float(dataset.values[$0]) })
        }
        return (LabelledFeatures(features: extracted.matrix(), targets: targets), extracted.skipped)
    }

    /// A seeded split: stratified by class for a classifier.
    private func split(_ targets: TrainingTargets, fraction: Double) throws(LearningError) -> DataSplit {
        switch targets {
        case let .classes(labels): return try TrainTestSplit.stratified(labels: labels, testFraction: fraction, seed: plan.training.seed)
        case let .values(values): return try TrainTestSplit.shuffled(count: values.count, testFraction: fraction, seed: plan.training.seed)
        }
    }

    /// The validation split early stopping watches: the explicit set, or a
    /// fraction of the training split — only when early stopping is on
    /// (otherwise every training example is trained on).
    private func holdOutValidation(_ development: LabelledFeatures, explicit: LabelledFeatures?) throws(QuernError) -> (LabelledFeatures, LabelledFeatures?) {
        if let explicit { return (development, explicit) }
        guard plan.training.patience != nil, plan.validationFraction > 0 else { return (development, nil) }
        do {
            let split = try split(development.targets, fraction: plan.validationFraction)
            return (development.selecting(split.train), development.selecting(split.test))
        } catch {
            log("no validation split (\(error.message)): training without early stopping")
            return (development, nil)
        }
    }

    /// Stratified K-fold on the development split: each fold trained as the
    /// final head is (its own standardisation and validation hold-out) and
    /// evaluated on its held-out fold.
    private func crossValidate(_ development: LabelledFeatures, folds: Int, architecture: HeadArchitecture, classes: [String]) throws(QuernError) -> CrossValidationSummary {
        let splits = try learning { () throws(LearningError) in
            switch development.targets {
            case let .classes(labels): return try KFold.stratified(labels: labels, folds: folds, seed: plan.training.seed)
            case let .values(values): return try KFold.shuffled(count: values.count, folds: folds, seed: plan.training.seed)
            }
        }
        var classifications: [ClassificationEvaluation] = []
        var regressions: [RegressionEvaluation] = []
        for (index, split) in splits.enumerated() {
            let (training, validation) = try holdOutValidation(development.selecting(split.train), explicit: nil)
            let held = development.selecting(split.test)
            let evaluation = try learning { () throws(LearningError) in
                let fitted = try HeadFitting.fit(architecture: architecture, classes: classes, options: plan.training, training: training, validation: validation)
                return try HeadEvaluation(head: fitted.head, features: held.features, targets: held.targets)
            }
            log("fold \(index + 1)/\(folds): " + evaluation.summary)
            switch evaluation {
            case let .classification(value): classifications.append(value)
            case let .regression(value): regressions.append(value)
            }
        }
        return try learning { () throws(LearningError) in
            classifications.isEmpty ? try CrossValidationSummary(folds: regressions) : try CrossValidationSummary(folds: classifications)
        }
    }

    // MARK: Helpers

    private func classSummary(_ dataset: Dataset) -> String {
        guard !dataset.classes.isEmpty else { return "" }
        return ", " + zip(dataset.classes, dataset.classCounts).map { "\($0) \($1)" }.joined(separator: ", ")
    }

    static func describe(_ record: EpochRecord) -> String {
        var line = String(format: "epoch %d: loss %.4f", record.epoch, record.trainLoss)
        if let loss = record.validationLoss { line += String(format: ", validation loss %.4f", loss) }
        if let accuracy = record.validationAccuracy { line += String(format: ", validation accuracy %.4f", accuracy) }
        return line + String(format: ", lr %.2g", record.learningRate)
    }

    static func json(_ skipped: SkippedExample) -> JSONValue {
        .object([("origin", .string(skipped.origin)), ("reason", .string(skipped.reason.rawValue)), ("detail", .string(skipped.detail))])
    }

    static func featureKind(_ kind: InputKind) -> FeatureKind {
        switch kind {
        case .image: return .image
        case .audio: return .audio
        default: return .text
        }
    }

    static func read(_ path: String, options: DatasetOptions, role: DatasetRole) throws(QuernError) -> Dataset {
        do { return try DatasetReader.read(path, options: options, role: role) } catch {
            throw QuernError(.trainingInvalidDataset, "\(error.code): \(error.message)")
        }
    }

    /// Runs a learning step, its errors as result errors: a bad
    /// hyper-parameter is the request's fault, the rest the training's.
    private func learning<T>(_ body: () throws(LearningError) -> T) throws(QuernError) -> T {
        do { return try body() } catch {
            throw QuernError(error.kind == .invalidParameter ? .requestInvalidValue : .trainingFailed, "\(error.code): \(error.message)")
        }
    }

    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
}
