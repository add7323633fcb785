import Logging
import QuernLearning
import QuernTensor

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
        /// Load every model now (`--preload`) instead of on its first job.
        public var preload: Bool
        /// Unload a model idle this long (`--model-idle-unload`); nil: never.
        public var idleUnload: Duration?
        /// Where chat requests' conversations are kept, and their prefix
        /// cache; nil: `conversation` and `forget` are refused.
        public var conversations: Conversations?
        /// The precision each task runs in when a request does not say
        /// (`--precision TASK=PRECISION`); float32 when absent.
        public var precisions: [TaskName: Precision] = [:]

        public init(modelsDirectory: String, diagnostic: Bool = false, diagnosticDelay: Duration = .zero,
                    limits: InputLimits = InputLimits(), logger: Logger = Logger(label: "quern"),
                    trainingData: TrainingDataFolders = TrainingDataFolders(), preload: Bool = false, idleUnload: Duration? = nil,
                    conversations: Conversations? = nil) {
            self.conversations = conversations
            self.preload = preload
            self.idleUnload = idleUnload
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
    /// routed the tasks assigned to it. Models load on their first job (or
    /// all now with `preload`) and may be unloaded when idle
    /// (`ModelResidency`, `registry.residency`). A model that is missing or
    /// declares a type the registry does not know makes only its own tasks
    /// unavailable, with the reason (and `serve` logs it); one that fails to
    /// load gives its tasks' files that error. The other kinds keep working.
    public static func makeRegistry(_ options: Options) throws(QuernError) -> PipelineRegistry {
        var registry = PipelineRegistry()
        registry.conversations = options.conversations
        if options.diagnostic {
            registry.register(DiagnosticPipeline(delay: options.diagnosticDelay))
            // One lane per default model folder, as the real models get.
            for tasks in tasksByDefaultFolder() {
                registry.register(DiagnosticPipeline(delay: options.diagnosticDelay, lane: "quern-diagnostic-" + tasks[0].rawValue), for: Set(tasks))
            }
            if let conversations = options.conversations {
                registry.register(ForgetConversationPipeline(conversations: conversations, lane: "quern-diagnostic-" + TaskName.chat.rawValue))
            }
            return registry
        }
        let context = ModelLoadContext(modelsDirectory: options.modelsDirectory, limits: options.limits, conversations: options.conversations)
        let residency = ModelResidency(idleUnload: options.idleUnload, logger: options.logger)
        registry.residency = residency
        var found: [(pipeline: LazyPipeline, tasks: Set<TaskName>, bfloat16: LazyPipeline?)] = []
        for tasks in tasksByDefaultFolder() {
            do throws(ModelRegistryError) {
                let folder = try ModelRegistry.defaultPath(for: tasks[0], modelsDirectory: options.modelsDirectory)
                let located = try ModelRegistry.locate(folder, serving: tasks)
                let installed = try InstalledModel.inspect(folder: folder, declaration: located.declaration)
                // A model that offers bfloat16 gets a second slot for that
                // form, loaded only when a job asks for it.
                let precisions: [Precision?] = located.architecture.offersPrecision ? [.float32, .bfloat16] : [nil]
                let pipelines = precisions.map { precision in
                    var identity = installed.identity
                    identity.precision = precision
                    var loadContext = context
                    loadContext.precision = precision ?? .float32
                    let slot = ModelSlot(identity: identity, tasks: Set(tasks), maxBatchSize: located.architecture.maxBatchSize,
                                         weightBytes: installed.weightsBytes,
                                         loader: { [loadContext] () throws(QuernError) -> any Pipeline in try located.load(loadContext) })
                    residency.add(slot)
                    return LazyPipeline(slot: slot, residency: residency)
                }
                found.append((pipelines[0], Set(tasks), pipelines.count > 1 ? pipelines[1] : nil))
            } catch {
                registry.markUnavailable(Set(tasks), reason: error.message)
            }
        }
        registry.defaultPrecision = options.precisions
        let embedding = found.first { $0.tasks.contains(.embed) }?.pipeline
        var featureModels: [FeatureKind: ModelIdentity] = [:]
        for (pipeline, tasks, _) in found {
            for task in tasks { if let kind = featureKind(of: task) { featureModels[kind] = pipeline.identity } }
        }
        let library = HeadLibrary(directory: headsDirectory(modelsDirectory: options.modelsDirectory), featureModels: featureModels,
                                  logger: options.logger)
        _ = library.current()  // loads and logs the installed heads at start-up
        registry.headLibrary = library
        for (pipeline, tasks, bfloat16) in found {
            func served(_ base: LazyPipeline) -> any Pipeline {
                var served: any Pipeline = base
                var headKind = tasks.lazy.compactMap { featureKind(of: $0) }.first
                if let embedding, !tasks.isDisjoint(with: tasksAnsweredWithTextEmbedding), !tasks.contains(.embed) {
                    served = EmbeddingAttachingPipeline(base: base, embedding: embedding)
                    headKind = .text
                }
                if let headKind { served = attachingHeads(library, kind: headKind, to: served) }
                return served
            }
            registry.register(served(pipeline), for: tasks)
            if let bfloat16 { registry.registerBFloat16(served(bfloat16), for: tasks) }
        }
        registerForget(&registry, conversations: options.conversations, chatLane: found.first { $0.tasks.contains(.chat) }?.pipeline.lane)
        if options.trainingData.isEmpty {
            registry.markUnavailable([.train], reason: "no folder is allowed for training data (start quern with --train-data-dir DIR, or set QUERN_TRAIN_DATA_DIR)")
        } else {
            let models = found.map(\.pipeline)
            let limits = options.limits
            registry.register(TrainingPipeline(
                extractors: { (kind: InputKind) throws(QuernError) -> (extractor: FeatureExtractor, keepsLoaded: AnyObject?)? in
                    try featureExtractor(for: kind, among: models, limits: limits)
                },
                headsDirectory: headsDirectory(modelsDirectory: options.modelsDirectory), limits: options.limits,
                trainingData: options.trainingData, logger: options.logger))
        }
        if options.preload {
            // Each model in the precision its tasks run in unless a request says otherwise.
            residency.preloadAll { identity, tasks in
                guard let precision = identity.precision else { return true }
                return tasks.contains { (options.precisions[$0] ?? .float32) == precision }
            }
        }
        return registry
    }

    /// `forget` runs on the chat model's lane (without loading the model),
    /// so it is ordered with the conversation's turns.
    static func registerForget(_ registry: inout PipelineRegistry, conversations: Conversations?, chatLane: String?) {
        guard let conversations else {
            registry.markUnavailable([.forget], reason: "this quern keeps no conversations (quern serve keeps them in <inbox>/.quern/conversations; give quern run --conversations DIR)")
            return
        }
        registry.register(ForgetConversationPipeline(conversations: conversations, lane: chatLane ?? "quern-conversations"))
    }

    /// A feature extractor that gives the vectors heads train on for `kind`,
    /// on the model that serves it (loaded now if it is not), with the lease
    /// that keeps that model loaded while training runs.
    static func featureExtractor(for kind: InputKind, among models: [LazyPipeline],
                                 limits: InputLimits) throws(QuernError) -> (extractor: FeatureExtractor, keepsLoaded: AnyObject?)? {
        let task: TaskName
        switch kind {
        case .text: task = .embed
        case .image: task = .classify
        case .audio: task = .transcribe
        default: return nil
        }
        guard let model = models.first(where: { $0.tasks.contains(task) }) else { return nil }
        let lease = try model.loaded()
        guard let extractor = featureExtractors([lease.base], limits: limits)[kind] else { return nil }
        return (extractor, lease)
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
        case .chat, .complete, .train, .forget: return nil
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

    private static func attachingHeads<Base: Pipeline>(_ library: HeadLibrary, kind: FeatureKind, to base: Base) -> any Pipeline {
        HeadAttachingPipeline(base: base, library: library, kind: kind)
    }
}
