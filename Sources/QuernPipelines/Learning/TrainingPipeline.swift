import Logging
import QuernJSON
import QuernLearning

/// The `train` task: `{"task": "train", "data": …, "name": …, …}` dropped in
/// the inbox trains a head on a dataset inside an allowed folder, with the
/// feature models the daemon already has loaded (so the head fits them),
/// installs it under `<models>/heads/<name>/` — where the head library
/// picks it up for the next batch — and answers with its evaluation.
/// Progress goes to the log.
public struct TrainingPipeline: Pipeline {
    public let identity: ModelIdentity
    public let tasks: Set<TaskName> = [.train]
    /// The feature extractor for a kind of input, on the model the daemon
    /// serves it with (loaded if needed), and what keeps that model loaded
    /// while the caller holds it; nil when no model serves the kind.
    let extractors: @Sendable (InputKind) throws(QuernError) -> (extractor: FeatureExtractor, keepsLoaded: AnyObject?)?
    let headsDirectory: String
    let limits: InputLimits
    let trainingData: TrainingDataFolders
    let logger: Logger

    init(extractors: @escaping @Sendable (InputKind) throws(QuernError) -> (extractor: FeatureExtractor, keepsLoaded: AnyObject?)?, headsDirectory: String, limits: InputLimits,
         trainingData: TrainingDataFolders, logger: Logger) {
        self.extractors = extractors
        self.headsDirectory = headsDirectory
        self.limits = limits
        self.trainingData = trainingData
        self.logger = logger
        identity = ModelIdentity(name: "quern-train", weightsSHA256: nil)
    }

    public func run(_ batch: [Job], context: PipelineContext) async throws(QuernError) -> [Result<TaskOutput, QuernError>] {
        var results: [Result<TaskOutput, QuernError>] = []
        for (index, job) in batch.enumerated() {
            do { results.append(.success(try await train(job, index: index, context: context))) } catch { results.append(.failure(error)) }
        }
        return results
    }

    private func train(_ job: Job, index: Int, context: PipelineContext) async throws(QuernError) -> TaskOutput {
        guard case let .train(request) = job.request else {
            throw QuernError(.internalError, "the training pipeline received a \(job.request.task.rawValue) job")
        }
        guard case let .object(members) = request.hyperParameters else {
            throw QuernError(.internalError, "a train request's hyper-parameters are not an object")
        }
        var plan = try TrainingParameters.apply(members, to: TrainingPlan(data: request.data, name: request.name))
        plan.test = request.test
        let logger = self.logger
        let run = HeadTrainingRun(
            plan: plan, quernVersion: QuernRelease.version,
            log: { message in logger.info("train \(request.name): \(message)") },
            progress: { label, total, unit in
                ProgressReporter(label: "train \(request.name): \(label)", total: total, unit: unit, output: .log { logger.info("\($0)") },
                                 onAdvance: { done, total in context.report(index, .steps(done: done, total: total, unit: label)) })
            })
        // The request's paths were checked; a dataset's own symbolic links
        // and table paths must not lead out of the allowed folders either:
        // such files are skipped unopened (and listed with the reason).
        let data = try run.readData(limits: limits, allowedFolders: trainingData)
        guard let found = try extractors(data.training.kind) else {
            throw QuernError(.unsupported, "no feature model for \(data.training.kind.rawValue) is installed, so a \(data.training.kind.rawValue) head cannot be trained here")
        }
        let extractor = found.extractor
        let outcome = try await run.run(data, extractor: extractor, cache: extractor.cache(), folder: headsDirectory + "/" + plan.name)
        withExtendedLifetime(found.keepsLoaded) {}
        return .training(TrainingOutput(json: outcome.json))
    }
}

/// A `train` task's answer: the head's folder, its dataset, split, training
/// and held-out evaluation (`HeadTrainingRun.Outcome.json`).
public struct TrainingOutput: Sendable, Equatable {
    public var json: JSONValue

    public init(json: JSONValue) { self.json = json }
}
