import Logging
import QuernLearning

/// The pipelines a daemon or `quern run` starts with.
public enum PipelineCatalog {
    public struct Options: Sendable {
        public var modelsDirectory: String
        /// Replaces every model by `DiagnosticPipeline` (tests, overhead benchmark).
        public var diagnostic: Bool
        public var diagnosticDelay: Duration
        /// The daemon's input limits: the pipelines enforce them again while
        /// decoding (pixels, seconds of audio), because headers can lie.
        public var limits: InputLimits
        /// Where the head library says which heads it loaded or refused,
        /// and `train` tasks report their progress.
        public var logger: Logger
        /// Where `train` requests may read datasets; none: `train` is refused.
        public var trainingData: TrainingDataFolders

        public init(modelsDirectory: String, diagnostic: Bool = false, diagnosticDelay: Duration = .zero,
                    limits: InputLimits = InputLimits(), logger: Logger = Logger(label: "quern"),
                    trainingData: TrainingDataFolders = TrainingDataFolders()) {
            self.modelsDirectory = modelsDirectory
            self.diagnostic = diagnostic
            self.diagnosticDelay = diagnosticDelay
            self.limits = limits
            self.logger = logger
            self.trainingData = trainingData
        }
    }

    /// Where heads are installed: `<models>/heads/<name>/`.
    public static func headsDirectory(modelsDirectory: String) -> String { modelsDirectory + "/heads" }

    /// One pipeline per model folder in `ModelRegistry.defaultModels`, each
    /// routed the tasks assigned to it. A model that is missing, declares a
    /// type the registry does not know or fails to load makes only its own
    /// tasks unavailable, with the reason (and `serve` logs it); the other
    /// kinds keep working.
    public static func makeRegistry(_ options: Options) throws(QuernError) -> PipelineRegistry {
        var registry = PipelineRegistry()
        if options.diagnostic {
            registry.register(DiagnosticPipeline(delay: options.diagnosticDelay))
            // One lane per default model folder, as the real models get.
            for tasks in tasksByDefaultFolder() {
                registry.register(DiagnosticPipeline(delay: options.diagnosticDelay, lane: "quern-diagnostic-" + tasks[0].rawValue), for: Set(tasks))
            }
            return registry
        }
        let context = ModelLoadContext(modelsDirectory: options.modelsDirectory, limits: options.limits)
        var loaded: [(pipeline: any Pipeline, tasks: Set<TaskName>)] = []
        for tasks in tasksByDefaultFolder() {
            do throws(QuernError) {
                let located: LocatedModel
                do {
                    located = try ModelRegistry.locate(try ModelRegistry.defaultPath(for: tasks[0], modelsDirectory: options.modelsDirectory), serving: tasks)
                } catch {
                    throw QuernError(.internalError, error.message)
                }
                loaded.append((try located.load(context), Set(tasks)))
            } catch {
                registry.markUnavailable(Set(tasks), reason: error.message)
            }
        }
        let embedding = loaded.first { $0.tasks.contains(.embed) }?.pipeline as? EmbeddingPipeline
        var featureModels: [FeatureKind: ModelIdentity] = [:]
        for (pipeline, tasks) in loaded {
            for task in tasks { if let kind = featureKind(of: task) { featureModels[kind] = pipeline.identity } }
        }
        let library = HeadLibrary(directory: headsDirectory(modelsDirectory: options.modelsDirectory), featureModels: featureModels,
                                  logger: options.logger)
        _ = library.current()  // loads and logs the installed heads at start-up
        registry.headLibrary = library
        for (pipeline, tasks) in loaded {
            var served: any Pipeline = pipeline
            var headKind = tasks.lazy.compactMap { featureKind(of: $0) }.first
            if let embedding, !tasks.isDisjoint(with: tasksAnsweredWithTextEmbedding), !tasks.contains(.embed) {
                served = attaching(embedding, to: pipeline)
                headKind = .text
            }
            if let headKind { served = attachingHeads(library, kind: headKind, to: served) }
            registry.register(served, for: tasks)
        }
        if options.trainingData.isEmpty {
            registry.markUnavailable([.train], reason: "no folder is allowed for training data (start quern with --train-data-dir DIR, or set QUERN_TRAIN_DATA_DIR)")
        } else {
            registry.register(TrainingPipeline(
                extractors: featureExtractors(loaded.map(\.pipeline), limits: options.limits),
                headsDirectory: headsDirectory(modelsDirectory: options.modelsDirectory), limits: options.limits,
                trainingData: options.trainingData, logger: options.logger))
        }
        return registry
    }

    /// A feature extractor on each loaded model that gives vectors heads
    /// train on, by the kind of input it reads.
    static func featureExtractors(_ pipelines: [any Pipeline], limits: InputLimits) -> [InputKind: FeatureExtractor] {
        var extractors: [InputKind: FeatureExtractor] = [:]
        for pipeline in pipelines {
            switch pipeline {
            case let text as EmbeddingPipeline: extractors[.text] = FeatureExtractor(text: text, limits: limits)
            case let image as ImageClassificationPipeline: extractors[.image] = FeatureExtractor(image: image, limits: limits)
            case let audio as TranscriptionPipeline: extractors[.audio] = FeatureExtractor(audio: audio, limits: limits)
            default: continue
            }
        }
        return extractors
    }

    /// The kind of vectors heads read from a task's answers: the image
    /// model's pooled features, the audio embedding, sentence embeddings.
    /// (A plain-text file's chat or completion answer carries the text's
    /// sentence embedding when an embedding model is loaded.)
    static func featureKind(of task: TaskName) -> FeatureKind? {
        switch task {
        case .classify: return .image
        case .transcribe: return .audio
        case .embed: return .text
        case .chat, .complete, .train: return nil
        }
    }

    /// A plain-text file (`Job.embedsText`) answered by one of these tasks
    /// also gets its text's embedding in the same result, from the model
    /// serving `embed`.
    static let tasksAnsweredWithTextEmbedding: Set<TaskName> = [.chat, .complete]

    /// The tasks of each default folder, folders in the order of
    /// `TaskName.allCases` (so a folder serving two tasks is loaded once).
    static func tasksByDefaultFolder() -> [[TaskName]] {
        var groups: [(folder: String, tasks: [TaskName])] = []
        for task in TaskName.allCases {
            guard let folder = ModelRegistry.defaultModels[task] else { continue }
            if let index = groups.firstIndex(where: { $0.folder == folder }) {
                groups[index].tasks.append(task)
            } else {
                groups.append((folder, [task]))
            }
        }
        return groups.map(\.tasks)
    }

    private static func attaching<Base: Pipeline>(_ embedding: EmbeddingPipeline, to base: Base) -> any Pipeline {
        EmbeddingAttachingPipeline(base: base, embedding: embedding)
    }

    private static func attachingHeads<Base: Pipeline>(_ library: HeadLibrary, kind: FeatureKind, to base: Base) -> any Pipeline {
        HeadAttachingPipeline(base: base, library: library, kind: kind)
    }
}
