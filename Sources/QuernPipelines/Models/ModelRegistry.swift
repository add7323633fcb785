import QuernMedia
import QuernModels
import QuernTensor

/// The one table of the models Quern runs. A model folder declares what it
/// is (see `ModelDeclaration`); `architectures` maps that declared type to
/// the loader and the tasks it serves, and `defaultModels` says which folder
/// under `--models` serves each task. `PipelineCatalog` builds the daemon's
/// pipelines from these two tables, and the CLI commands that load a model
/// find it here. docs/daemon.md "Adding a model" walks through a change.
public enum ModelRegistry {
    /// Every architecture Quern loads. A declared type appears in one row only.
    public static let architectures: [ModelArchitecture] = [
        ModelArchitecture(
            name: "causal language model",
            // GGUF architectures as LanguageModelLoader lists them; the
            // config.json model types are those HuggingFaceLanguageModel's
            // switch builds (a type added there is added here).
            declaredTypes: LanguageModelLoader.architectures.map(ModelDeclaration.DeclaredType.ggufArchitecture)
                + ["llama", "mistral", "gpt2"].map(ModelDeclaration.DeclaredType.configModelType),
            tasks: [.chat, .complete], maxBatchSize: LanguageModelPipeline.batchLimit,
            load: { model, context in try LanguageModelPipeline(path: model.loadPath, conversations: context.conversations) }),
        ModelArchitecture(
            name: "sentence embedder",
            // A sentence-transformers folder around a BERT checkpoint.
            declaredTypes: [.configModelType("bert")],
            tasks: [.embed], maxBatchSize: EmbeddingPipeline.batchLimit, offersPrecision: true,
            load: { model, context in try EmbeddingPipeline(directory: model.loadPath, precision: context.precision) }),
        ModelArchitecture(
            name: "ResNet image classifier",
            declaredTypes: [.onnxGraph, .configModelType("resnet"), .safetensorsStateDict],
            tasks: [.classify], maxBatchSize: ImageClassificationPipeline.batchLimit, offersPrecision: true,
            load: { model, context in
                try ImageClassificationPipeline(path: model.loadPath, modelsDirectory: context.modelsDirectory,
                                                maximumPixels: context.limits.maxPixels, precision: context.precision)
            }),
        ModelArchitecture(
            name: "Whisper speech recogniser",
            declaredTypes: [.ctranslate2Spec("WhisperSpec"), .configModelType("whisper")],
            tasks: [.transcribe], maxBatchSize: 1, offersPrecision: true,
            load: { model, context in
                var limits = AudioLimits.standard
                limits.maxSeconds = context.limits.maxAudioSeconds
                return try TranscriptionPipeline(directory: model.loadPath, limits: limits, precision: context.precision)
            }),
    ]

    /// The folder under `--models` whose model serves each task, as
    /// scripts/fetch-models.sh lays them out (scripts/models.lock lists what
    /// it fetches). Tasks sharing a folder share one loaded model.
    public static let defaultModels: [TaskName: String] = [
        .chat: "smollm2-135m-instruct",
        .complete: "smollm2-135m-instruct",
        .embed: "all-minilm-l6-v2",
        .classify: "open-nsfw",
        .transcribe: "whisper-tiny-en",
    ]
}

/// What a loader is given besides the model's own path.
public struct ModelLoadContext: Sendable {
    /// `--models`: also where shared data lives (the ImageNet class names).
    public var modelsDirectory: String
    /// The daemon's input limits; pipelines hold decoding to them again,
    /// because headers can lie.
    public var limits: InputLimits
    /// Where a chat model keeps conversations and caches their prefixes.
    public var conversations: Conversations?
    /// What the model's products run in (architectures that `offersPrecision`).
    public var precision: Precision

    public init(modelsDirectory: String, limits: InputLimits = InputLimits(), conversations: Conversations? = nil,
                precision: Precision = .float32) {
        self.modelsDirectory = modelsDirectory
        self.limits = limits
        self.conversations = conversations
        self.precision = precision
    }
}

/// One row of `ModelRegistry.architectures`.
public struct ModelArchitecture: Sendable {
    /// Builds the pipeline; the pipelines throw `QuernError`s that name the model.
    public typealias Loader = @Sendable (ModelDeclaration, ModelLoadContext) throws -> any Pipeline

    /// For messages ("sentence embedder").
    public let name: String
    /// What a model declares to be loaded by this row.
    public let declaredTypes: [ModelDeclaration.DeclaredType]
    /// The tasks its pipeline answers.
    public let tasks: Set<TaskName>
    /// Its pipeline's `maxBatchSize`, known before it is loaded (`LazyPipeline`).
    public let maxBatchSize: Int
    /// Whether its loader honours `ModelLoadContext.precision` (bfloat16).
    public let offersPrecision: Bool
    let loader: Loader

    public init(name: String, declaredTypes: [ModelDeclaration.DeclaredType], tasks: Set<TaskName>, maxBatchSize: Int = 1,
                offersPrecision: Bool = false, load: @escaping Loader) {
        self.name = name
        self.declaredTypes = declaredTypes
        self.tasks = tasks
        self.maxBatchSize = maxBatchSize
        self.offersPrecision = offersPrecision
        self.loader = load
    }
}

/// A model found for a task: what it declares and the row that loads it.
public struct LocatedModel: Sendable {
    /// The file or folder that was looked at (a default folder, or `--model`).
    public let path: String
    public let declaration: ModelDeclaration
    public let architecture: ModelArchitecture

    /// Loads the model into its pipeline (seconds: weights are mapped, hashed
    /// and checked).
    public func load(_ context: ModelLoadContext) throws(QuernError) -> any Pipeline {
        do {
            return try architecture.loader(declaration, context)
        } catch let error as QuernError {
            throw error
        } catch {
            throw QuernError(.internalError, "cannot load the \(architecture.name) at \(declaration.loadPath): \(error)")
        }
    }
}

extension ModelRegistry {
    /// Every declared type some architecture loads, in table order.
    public static var knownTypes: [ModelDeclaration.DeclaredType] { architectures.flatMap(\.declaredTypes) }

    /// Where the default model for `task` lives (it may be missing).
    public static func defaultPath(for task: TaskName, modelsDirectory: String) throws(ModelRegistryError) -> String {
        guard let folder = defaultModels[task] else {
            throw ModelRegistryError(.unassigned, path: modelsDirectory, "no model is registered for task \"\(task.rawValue)\"")
        }
        return modelsDirectory + "/" + folder
    }

    /// The row that loads what `path` declares.
    public static func architecture(for declaration: ModelDeclaration, at path: String) throws(ModelRegistryError) -> ModelArchitecture {
        if let row = architectures.first(where: { $0.declaredTypes.contains(declaration.declaredType) }) { return row }
        let known = knownTypes.map(\.description).joined(separator: "; ")
        let classes = declaration.architectures.isEmpty ? "" : " (architectures: \(declaration.architectures.joined(separator: ", ")))"
        throw ModelRegistryError(.unknownType, path: path,
                                 "model \(path) declares \(declaration.declaredType)\(classes), which Quern cannot load; known types: \(known)")
    }

    /// The model that serves `task`: `explicitPath` (a `--model` option) when
    /// given, else the task's default folder in `modelsDirectory`.
    public static func locate(task: TaskName, modelsDirectory: String, explicitPath: String? = nil) throws(ModelRegistryError) -> LocatedModel {
        if let explicitPath { return try locate(explicitPath, serving: [task]) }
        return try locate(try defaultPath(for: task, modelsDirectory: modelsDirectory), serving: [task])
    }

    /// The model at `path`, whose declared type must be registered to an
    /// architecture that serves every one of `tasks`.
    public static func locate(_ path: String, serving tasks: [TaskName]) throws(ModelRegistryError) -> LocatedModel {
        let declaration = try ModelDeclaration.read(path)
        let row = try architecture(for: declaration, at: path)
        let unserved = tasks.filter { !row.tasks.contains($0) }
        guard unserved.isEmpty else {
            let served = row.tasks.map(\.rawValue).sorted().joined(separator: ", ")
            throw ModelRegistryError(.wrongTask, path: path,
                                     "model \(path) declares \(declaration.declaredType), a \(row.name), which serves \(served), not \(unserved.map(\.rawValue).joined(separator: ", "))")
        }
        return LocatedModel(path: path, declaration: declaration, architecture: row)
    }
}
