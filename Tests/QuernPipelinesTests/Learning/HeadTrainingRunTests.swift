import Foundation
import QuernJSON
import QuernLearning
@testable import QuernPipelines
import QuernTestSupport
import Testing

/// A whole training run on real MiniLM features: a small sentiment table,
/// a held-out split, K-fold, the head folder, and a regression target.
@Suite struct HeadTrainingRunTests {
    static let positive = ["I loved this film.", "A wonderful, moving story.", "Brilliant acting and a great script.",
                           "One of the best movies this year.", "Delightful from start to finish.", "A joy to watch.",
                           "Superb direction and a lovely cast.", "I would happily see it again.", "Warm, funny and clever.",
                           "An absolute triumph.", "Beautifully shot and deeply felt.", "Great fun for the whole family."]
    static let negative = ["I hated this film.", "A dull, lifeless story.", "Wooden acting and a terrible script.",
                           "One of the worst movies this year.", "Tedious from start to finish.", "A chore to sit through.",
                           "Clumsy direction and a wasted cast.", "I want those two hours back.", "Cold, humourless and stupid.",
                           "An absolute disaster.", "Ugly to look at and empty inside.", "Boring for the whole family."]

    static func sentimentTable(_ folder: DatasetFolder, ratings: Bool = false) throws -> String {
        var lines: [String] = []
        for (index, text) in positive.enumerated() {
            lines.append(JSONWriter.string(.object([("text", .string(text)), ("label", .string("positive")), ("rating", .int(3 + index % 2))]), style: .compact))
        }
        for (index, text) in negative.enumerated() {
            lines.append(JSONWriter.string(.object([("text", .string(text)), ("label", .string("negative")), ("rating", .int(-3 - index % 2))]), style: .compact))
        }
        return try folder.write("reviews.jsonl", text: lines.joined(separator: "\n") + "\n")
    }

    static func run(_ plan: TrainingPlan, folder: String, cache: FeatureCache? = nil) async throws -> (HeadTrainingRun.Outcome, [String]) {
        let messages = Messages()
        let run = HeadTrainingRun(plan: plan, quernVersion: QuernRelease.version, log: { messages.append($0) },
                                  progress: { label, total, unit in ProgressReporter(label: label, total: total, unit: unit, output: .log { _ in }) })
        let data = try run.readData(limits: InputLimits())
        let extractor = try FeatureExtractor(kind: data.training.kind, options: FeatureOptions(modelsDirectory: TestPaths.models))
        let outcome = try await run.run(data, extractor: extractor, cache: cache, folder: folder)
        return (outcome, messages.lines)
    }

    @Test func trainsEvaluatesAndWritesTheHeadFolder() async throws {
        _ = try EmbeddingTestSupport.requireMiniLM()
        let folder = try DatasetFolder()
        var plan = TrainingPlan(data: try Self.sentimentTable(folder), name: "reviews")
        plan = try TrainingParameters.apply([("epochs", .int(60)), ("test_fraction", .number("0.25")), ("folds", .int(3)),
                                             ("learning_rate", .number("0.01")), ("seed", .int(5))], to: plan)
        let headFolder = folder.scratch.root.path + "/heads/reviews"
        let (outcome, messages) = try await Self.run(plan, folder: headFolder)

        guard case let .classification(evaluation) = outcome.evaluation else { Issue.record("not a classification"); return }
        #expect(evaluation.count == 6, "25% of 24, by class")
        #expect(evaluation.accuracy >= 5.0 / 6, "MiniLM separates these sentences: \(evaluation.accuracy)")
        #expect(outcome.crossValidation != nil)
        #expect(outcome.development.count == 18 && outcome.test.count == 6)
        #expect(messages.contains { $0.contains("fold 3/3") })

        let installed = try HeadFile(folder: headFolder)
        #expect(installed.manifest.classes == ["negative", "positive"])
        #expect(installed.manifest.featureModel.variant == "text-windows")
        #expect(installed.manifest.trainingData.examples == 24)
        #expect(installed.manifest.metrics["test"]?["accuracy"] == evaluation.json["accuracy"])
        #expect(installed.manifest.metrics["cross_validation"] != nil)
        #expect(installed.manifest.history.count == outcome.training.history.count)
        #expect(installed.manifest.hyperParameters["learning_rate"] == .double(0.01))
        let report = try String(contentsOfFile: headFolder + "/report.svg", encoding: .utf8)
        #expect(report.hasPrefix("<svg") || report.hasPrefix("<?xml"))
        #expect(outcome.json["split"]?["test"] == .int(6) && outcome.json["dataset"]?["class_counts"]?["positive"] == .int(12))

        // The installed head gives the same probabilities on the test rows.
        let again = try HeadEvaluation(head: installed.head, features: outcome.test.features, targets: outcome.test.targets)
        #expect(again.json == outcome.evaluation.json)
    }

    @Test func aSecondRunReadsEveryFeatureFromTheCacheAndTrainsTheSameHead() async throws {
        _ = try EmbeddingTestSupport.requireMiniLM()
        let folder = try DatasetFolder()
        let plan = TrainingPlan(data: try Self.sentimentTable(folder), name: "reviews")
        let extractor = try FeatureExtractor(kind: .text, options: FeatureOptions(modelsDirectory: TestPaths.models))
        let cache = extractor.cache(directory: folder.scratch.root.path + "/cache")
        let (first, _) = try await Self.run(plan, folder: folder.scratch.root.path + "/a", cache: cache)
        let (second, messages) = try await Self.run(plan, folder: folder.scratch.root.path + "/b", cache: cache)
        #expect(messages.contains { $0.contains("(24 from the cache, 0 computed") }, "\(messages)")
        #expect(first.headFile.head.parameters.layers[0].weight.scalars == second.headFile.head.parameters.layers[0].weight.scalars)
    }

    @Test func aNumericTargetTrainsARegressionHead() async throws {
        _ = try EmbeddingTestSupport.requireMiniLM()
        let folder = try DatasetFolder()
        var plan = TrainingPlan(data: try Self.sentimentTable(folder), name: "rating")
        plan = try TrainingParameters.apply([("target_column", .string("rating")), ("epochs", .int(200)), ("learning_rate", .number("0.01")),
                                             ("patience", .int(0))], to: plan)
        let (outcome, _) = try await Self.run(plan, folder: folder.scratch.root.path + "/rating")
        guard case let .regression(evaluation) = outcome.evaluation else { Issue.record("not a regression"); return }
        #expect(evaluation.count == 5)
        // Ratings are ±3 or ±4: predicting their mean (about 0) misses by ~3.5.
        guard case let .values(truth) = outcome.test.targets else { Issue.record("no values"); return }
        let mean = Double(truth.reduce(0, +)) / Double(truth.count)
        let baseline = truth.map { abs(Double($0) - mean) }.reduce(0, +) / Double(truth.count)
        #expect(evaluation.meanAbsoluteError < baseline, "\(evaluation.meanAbsoluteError) vs the mean's \(baseline)")
        #expect(try HeadFile(folder: folder.scratch.root.path + "/rating").manifest.task == .regression)
    }
}

/// Lines logged by a run, collected from any thread.
final class Messages: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    func append(_ line: String) { lock.lock(); stored.append(line); lock.unlock() }
    var lines: [String] { lock.lock(); defer { lock.unlock() }; return stored }
}

/// A `train` request's dataset may not open files outside the allowed
/// folders through its own links.
@Suite struct AllowedFolderDatasetTests {
    @Test func aLinkLeadingOutIsSkippedUnopened() throws {
        let folder = try DatasetFolder()
        for label in ["a", "b"] {
            for index in 0..<2 { try folder.write("\(label)/\(index).txt", text: "example \(index) of \(label)") }
        }
        let outside = try DatasetFolder()
        let secret = try outside.write("secret.txt", text: "not for training")
        try FileManager.default.createSymbolicLink(atPath: folder.root + "/a/link.txt", withDestinationPath: secret)
        var options = DatasetOptions()
        options.allowedFolders = TrainingDataFolders(realPaths: [TrainingDataFolders.realPath(folder.root) ?? folder.root])
        let dataset = try DatasetReader.read(folder.root, options: options)
        #expect(dataset.examples.count == 4)
        #expect(dataset.skipped.map(\.reason) == [.outsideAllowedFolders])
        // Without the limit (quern train, run by the user) the link is followed.
        #expect(try DatasetReader.read(folder.root).examples.count == 5)
    }
}
