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

        public init(modelsDirectory: String, diagnostic: Bool = false, diagnosticDelay: Duration = .zero,
                    limits: InputLimits = InputLimits()) {
            self.modelsDirectory = modelsDirectory
            self.diagnostic = diagnostic
            self.diagnosticDelay = diagnosticDelay
            self.limits = limits
        }
    }

    /// One pipeline per model folder in `ModelRegistry.defaultModels`, each
    /// routed the tasks assigned to it. A model that is missing, declares a
    /// type the registry does not know or fails to load makes only its own
    /// tasks unavailable, with the reason (and `serve` logs it); the other
    /// kinds keep working.
    public static func makeRegistry(_ options: Options) throws(QuernError) -> PipelineRegistry {
        var registry = PipelineRegistry()
        if options.diagnostic {
            registry.register(DiagnosticPipeline(delay: options.diagnosticDelay))
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
        for (pipeline, tasks) in loaded {
            if let embedding, !tasks.isDisjoint(with: tasksAnsweredWithTextEmbedding), !tasks.contains(.embed) {
                registry.register(attaching(embedding, to: pipeline), for: tasks)
            } else {
                registry.register(pipeline, for: tasks)
            }
        }
        return registry
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
}
