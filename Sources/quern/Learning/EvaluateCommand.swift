import ArgumentParser
import Foundation
import QuernJSON
import QuernLearning
import QuernPipelines

/// `quern evaluate HEAD DATA`: a head's metrics on a labelled set, with the
/// features from the model the head was trained on (refused if the
/// installed one differs).
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Evaluates a head on a labelled dataset: accuracy, per-class precision/recall/F1, ROC-AUC, log loss, the confusion matrix (or MAE/RMSE/R²).",
        discussion: "HEAD is a head folder or the name of one installed in <models>/heads. DATA is read as quern train reads it; --text-column, --path-column, --label-column and --target-column choose a table's columns.")

    @Argument(help: ArgumentHelp("A head folder, or an installed head's name.", valueName: "head"))
    var head: String

    @Argument(help: ArgumentHelp("A folder of <label>/<files>, or a .jsonl/.csv/.tsv file.", valueName: "data"))
    var data: String

    @Flag(help: "Print the metrics as one JSON object.")
    var json = false

    @Option(help: ArgumentHelp("Also draw the confusion matrix and ROC curves (or the predictions) into this SVG file.", valueName: "file.svg"))
    var report: String?

    @OptionGroup var features: FeatureSourceOptions

    @OptionGroup var compute: ComputeOptions

    @Argument(parsing: .allUnrecognized, help: .hidden)
    var columns: [String] = []

    func run() throws {
        let members = try TrainingArguments.members(columns, allowed: ["text_column", "path_column", "label_column", "target_column"])
        let columnPlan = try TrainingParameters.apply(members, to: TrainingPlan(data: data, name: "evaluate"))
        _ = try compute.prepare()
        let modelsDirectory = try features.models.directory()
        let folder = head.contains("/") ? head : PipelineCatalog.headsDirectory(modelsDirectory: modelsDirectory) + "/" + head
        let headFile = try HeadFile(folder: folder)
        let manifest = headFile.manifest
        let kind = InputKind(featureKind: manifest.featureModel.kind)
        let limits = InputLimits()
        let task: Dataset.Task = manifest.task == .classification ? .classification(classes: manifest.classes) : .regression(target: columnPlan.targetColumn ?? "target")
        let options = DatasetOptions(textColumn: columnPlan.textColumn, pathColumn: columnPlan.pathColumn, labelColumn: columnPlan.labelColumn,
                                     targetColumn: columnPlan.targetColumn, kind: kind, limits: limits)
        let dataset: Dataset
        do { dataset = try DatasetReader.read(data, options: options, role: .evaluation(task: task, kind: kind)) } catch {
            throw ValidationError("\(error.code): \(error.message)")
        }
        let extractor = try FeatureExtractor(kind: kind, options: FeatureOptions(
            modelsDirectory: modelsDirectory, modelPath: features.featureModel,
            truncateLongTexts: manifest.featureModel.variant == "text-truncate", limits: limits))
        guard extractor.model.weightsSHA256 == manifest.featureModel.sha256 else {
            throw ValidationError("\(folder) was trained on features of \(manifest.featureModel.name) (sha256 \(manifest.featureModel.sha256)), but the installed \(extractor.model.name) has sha256 \(extractor.model.weightsSHA256 ?? "unknown"); retrain the head with quern train")
        }
        let cache = extractor.cache(directory: features.cacheDirectory ?? FeatureCache.defaultDirectory())
        let extracted = try waitFor {
            try await extractor.extract(dataset.examples, cache: cache, progress: standardErrorProgress(label: "features", total: dataset.examples.count, unit: "examples"))
        }
        if !extracted.skipped.isEmpty || !dataset.skipped.isEmpty { note("skipped" + SkippedSummary.describe(dataset.skipped + extracted.skipped)) }
        let targets: TrainingTargets = manifest.task == .classification
            ? .classes(extracted.exampleIndices.map { dataset.labels[$0] })
            : .values(extracted.exampleIndices.map { Float(dataset.values[$0]) })
        let evaluation = try HeadEvaluation(head: headFile.head, features: extracted.matrix(), targets: targets)
        if let report {
            let svg = TrainingReportSVG(title: "\(manifest.name) on \(dataset.source)", evaluation: evaluation).render()
            try Data(svg.utf8).write(to: URL(fileURLWithPath: report), options: .atomic)
        }
        if json {
            FileHandle.standardOutput.write(Data(JSONWriter.bytes(evaluation.json, style: .pretty) + [0x0A]))
        } else {
            print(evaluation.textReport())
        }
    }
}

extension InputKind {
    /// The kind of input a head's feature model reads.
    init(featureKind: FeatureKind) {
        switch featureKind {
        case .text: self = .text
        case .image: self = .image
        case .audio: self = .audio
        }
    }
}
