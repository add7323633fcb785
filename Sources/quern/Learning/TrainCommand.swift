import ArgumentParser
import Foundation
import QuernDaemon
import QuernFormats
import QuernJSON
import QuernLearning
import QuernPipelines
import QuernTensor

/// `quern train`: a head on Quern's embeddings, from a folder of
/// `<label>/<files>` or a table, evaluated on a held-out split and installed
/// where the daemon runs it.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Trains a classifier (or regression) head on Quern's text, image or audio embeddings, evaluates it and installs it.",
        discussion: """
        DATA is a folder of <label>/<files> (text, PNG/JPEG images or audio; one kind) or a .jsonl/.csv/.tsv file with a text \
        (or file path) column and a label (or numeric target) column. Features come from the daemon's own models and are \
        cached (keyed by input and model sha256), so retraining with other settings only trains. The head is written to \
        <models>/heads/NAME/ (head.safetensors, head.json, report.svg), where quern serve and quern run pick it up.

        \(TrainingArguments.help)
        """)

    @Argument(help: ArgumentHelp("The training data: a folder of <label>/<files>, or a .jsonl/.csv/.tsv file.", valueName: "data"))
    var data: String

    @Option(help: ArgumentHelp("The head's name (default: the data's folder or file name).", valueName: "name"))
    var name: String?

    @Option(help: ArgumentHelp("An explicit test set (folder or table); default: a held-out --test-fraction.", valueName: "data"))
    var test: String?

    @Option(help: ArgumentHelp("An explicit validation set for early stopping; default: a held-out --validation-fraction.", valueName: "data"))
    var validation: String?

    @Option(help: ArgumentHelp("Where to write the head (default: <models>/heads/<name>).", valueName: "folder"))
    var output: String?

    @OptionGroup var features: FeatureSourceOptions

    @Flag(name: .customLong("no-cache"), help: "Compute every feature; neither read nor write the cache.")
    var noCache = false

    @Option(name: .customLong("export-features"), help: ArgumentHelp("Also write the development and test splits' features and labels to this .safetensors file (for comparisons with other tools).", valueName: "file"))
    var exportFeatures: String?

    @Flag(help: "Print the outcome as one JSON object instead of the readable report.")
    var json = false

    @OptionGroup var compute: ComputeOptions

    @Argument(parsing: .allUnrecognized, help: .hidden)
    var parameters: [String] = []

    func run() throws {
        let members = try TrainingArguments.members(parameters)
        let headName = name ?? Self.defaultName(for: data)
        if let problem = HeadName.problem(with: headName) { throw ValidationError("--name: \(problem)") }
        var plan = TrainingPlan(data: data, name: headName)
        plan.test = test
        plan.validation = validation
        plan = try TrainingParameters.apply(members, to: plan)
        _ = try compute.prepare()
        let modelsDirectory = try features.models.directory()
        let folder = output ?? PipelineCatalog.headsDirectory(modelsDirectory: modelsDirectory) + "/" + headName
        let quiet = json
        let run = HeadTrainingRun(
            plan: plan, quernVersion: QuernVersion.string,
            log: { message in if !quiet { note(message) } },
            progress: { label, total, unit in standardErrorProgress(label: label, total: total, unit: unit) })
        let limits = InputLimits()
        let data = try run.readData(limits: limits)
        let extractor = try FeatureExtractor(kind: data.training.kind, options: FeatureOptions(
            modelsDirectory: modelsDirectory, modelPath: features.featureModel, truncateLongTexts: plan.truncate, limits: limits))
        let cache = noCache ? nil : extractor.cache(directory: features.cacheDirectory ?? FeatureCache.defaultDirectory())
        let outcome = try waitFor { try await run.run(data, extractor: extractor, cache: cache, folder: folder) }
        if let exportFeatures { try Self.export(outcome, classes: data.training.classes, to: exportFeatures) }
        if json {
            FileHandle.standardOutput.write(Data(JSONWriter.bytes(outcome.json, style: .pretty) + [0x0A]))
            return
        }
        print(outcome.evaluation.textReport())
        if let crossValidation = outcome.crossValidation { print(crossValidation.textReport()) }
        print("head \(headName) written to \(folder) (head.json, head.safetensors, report.svg)")
    }

    /// The data folder's or file's name without extension, made a safe head name.
    static func defaultName(for path: String) -> String {
        let url = URL(fileURLWithPath: path)
        let base = url.hasDirectoryPath ? url.lastPathComponent : url.deletingPathExtension().lastPathComponent
        let safe = String(base.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "-" })
        return safe.isEmpty ? "head" : safe
    }

    /// The splits' raw features and targets, for scripts/compare-heads-sklearn.py.
    static func export(_ outcome: HeadTrainingRun.Outcome, classes: [String], to path: String) throws {
        var entries: [SafetensorsEncoder.Entry] = []
        for (prefix, split) in [("development", outcome.development), ("test", outcome.test)] {
            entries.append(SafetensorsEncoder.Entry(name: prefix + ".features", tensor: split.features))
            let targets: [Float]
            switch split.targets {
            case let .classes(labels): targets = labels.map(Float.init)
            case let .values(values): targets = values
            }
            entries.append(SafetensorsEncoder.Entry(name: prefix + ".targets", shape: [targets.count], values: targets))
        }
        let classList = JSONWriter.string(.array(classes.map(JSONValue.string)), style: .compact)
        try SafetensorsEncoder.write(entries, metadata: [("classes", classList)], to: path)
    }
}
