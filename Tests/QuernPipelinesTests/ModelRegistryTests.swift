import Foundation
import QuernPipelines
import QuernTestSupport
import Testing

/// Small synthetic model folders: only the files that declare a type, so
/// detection is tested without any weights.
private struct ModelFolders {
    let scratch: Scratch

    init() throws { scratch = try Scratch() }

    /// A new empty folder under the scratch root.
    func folder(_ name: String) throws -> String {
        let path = scratch.root.appendingPathComponent(name).path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    func write(_ bytes: [UInt8], to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    func config(_ folder: String, _ json: String) throws {
        try write(Array(json.utf8), to: folder + "/config.json")
    }

    /// A GGUF v3 file with one metadata entry, `general.architecture`, and no tensors.
    static func gguf(architecture: String) -> [UInt8] {
        var out: [UInt8] = Array("GGUF".utf8)
        func u32(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { out += $0 } }
        func u64(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { out += $0 } }
        func string(_ text: String) { u64(UInt64(text.utf8.count)); out += Array(text.utf8) }
        u32(3)
        u64(0)
        u64(1)
        string("general.architecture")
        u32(8)
        string(architecture)
        while out.count % 32 != 0 { out.append(0) }
        return out
    }

    /// A CTranslate2 model.bin (version 6) with a spec name and no variables.
    static func ctranslate2(spec: String) -> [UInt8] {
        var out: [UInt8] = []
        func u32(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { out += $0 } }
        u32(6)
        withUnsafeBytes(of: UInt16(spec.utf8.count + 1).littleEndian) { out += $0 }
        out += Array(spec.utf8) + [0]
        u32(3)
        u32(0)
        u32(0)
        return out
    }
}

@Suite struct ModelRegistryTests {
    private func declaredType(of path: String) throws -> ModelDeclaration.DeclaredType {
        try ModelDeclaration.read(path).declaredType
    }

    private func failure(_ body: () throws -> Void) -> ModelRegistryError? { thrownError(ModelRegistryError.self, body) }

    @Test(arguments: [("llama", TaskName.chat), ("mistral", .complete), ("gpt2", .chat), ("bert", .embed), ("resnet", .classify), ("whisper", .transcribe)])
    func aConfigModelTypeSelectsItsArchitecture(modelType: String, task: TaskName) throws {
        let folders = try ModelFolders()
        let folder = try folders.folder(modelType)
        try folders.config(folder, #"{"model_type": "\#(modelType)", "architectures": ["SomethingForTesting"]}"#)
        let located = try ModelRegistry.locate(task: task, modelsDirectory: "/nonexistent", explicitPath: folder)
        #expect(located.declaration.declaredType == .configModelType(modelType))
        #expect(located.declaration.loadPath == folder, "a Hugging Face folder is loaded as a folder")
        #expect(located.declaration.architectures == ["SomethingForTesting"])
        #expect(located.architecture.tasks.contains(task))
    }

    @Test(arguments: ["llama", "gpt2"])
    func aGGUFArchitectureSelectsTheLanguageModel(architecture: String) throws {
        let folders = try ModelFolders()
        let folder = try folders.folder("gguf-" + architecture)
        try folders.write(ModelFolders.gguf(architecture: architecture), to: folder + "/weights.Q4_0.gguf")
        try folders.write(Array("not a model".utf8), to: folder + "/README.md")
        let located = try ModelRegistry.locate(task: .chat, modelsDirectory: "/nonexistent", explicitPath: folder)
        #expect(located.declaration.declaredType == .ggufArchitecture(architecture))
        #expect(located.declaration.loadPath == folder + "/weights.Q4_0.gguf", "a GGUF is loaded as its file")
        #expect(located.architecture.tasks == [.chat, .complete])
        // The file itself declares the same.
        #expect(try declaredType(of: folder + "/weights.Q4_0.gguf") == .ggufArchitecture(architecture))
    }

    /// ONNX names no architecture and a bare state dict has no config: the
    /// file's kind alone selects the image classifier, which loads the file.
    @Test(arguments: [("classifier.onnx", ModelDeclaration.DeclaredType.onnxGraph), ("resnet18.safetensors", .safetensorsStateDict)])
    func aOneFileImageClassifierIsLoadedAsItsFile(file: String, declared: ModelDeclaration.DeclaredType) throws {
        let folders = try ModelFolders()
        let folder = try folders.folder("classifier")
        try folders.write([0x08, 0x07], to: folder + "/" + file)
        try folders.write(Array("abc  \(file)\n".utf8), to: folder + "/" + file + ".sha256")
        let located = try ModelRegistry.locate(task: .classify, modelsDirectory: "/nonexistent", explicitPath: folder)
        #expect(located.declaration.declaredType == declared)
        #expect(located.declaration.loadPath == folder + "/" + file)
    }

    @Test func aCTranslate2SpecWinsOverItsOwnConfig() throws {
        let folders = try ModelFolders()
        let folder = try folders.folder("ct2")
        try folders.write(ModelFolders.ctranslate2(spec: "WhisperSpec"), to: folder + "/model.bin")
        try folders.config(folder, #"{"suppress_ids": [1, 2]}"#)
        let located = try ModelRegistry.locate(task: .transcribe, modelsDirectory: "/nonexistent", explicitPath: folder)
        #expect(located.declaration.declaredType == .ctranslate2Spec("WhisperSpec"))
        #expect(located.declaration.loadPath == folder, "Whisper loads from its folder")
        #expect(try declaredType(of: folder + "/model.bin") == .ctranslate2Spec("WhisperSpec"))
    }

    @Test func hiddenFilesAreIgnored() throws {
        let folders = try ModelFolders()
        let folder = try folders.folder("fetched")
        try folders.write(Array("{}".utf8), to: folder + "/.quern-model.json")
        try folders.write(ModelFolders.gguf(architecture: "llama"), to: folder + "/.old.gguf")
        try folders.write(ModelFolders.gguf(architecture: "gpt2"), to: folder + "/model.gguf")
        #expect(try declaredType(of: folder) == .ggufArchitecture("gpt2"))
    }

    @Test func anUnknownDeclaredTypeNamesTheFolderTheTypeAndTheKnownOnes() throws {
        let folders = try ModelFolders()
        let folder = try folders.folder("mystery")
        try folders.config(folder, #"{"model_type": "qwen2", "architectures": ["Qwen2ForCausalLM"]}"#)
        let error = try #require(failure { _ = try ModelRegistry.locate(task: .chat, modelsDirectory: "/nonexistent", explicitPath: folder) })
        #expect(error.kind == .unknownType)
        #expect(error.code == "model.unknown_type")
        #expect(error.path == folder)
        #expect(error.message.contains(folder))
        #expect(error.message.contains("model_type \"qwen2\""))
        #expect(error.message.contains("Qwen2ForCausalLM"))
        for known in ModelRegistry.knownTypes { #expect(error.message.contains(known.description), "\(known) is not listed") }

        let gguf = try folders.folder("mamba")
        try folders.write(ModelFolders.gguf(architecture: "mamba"), to: gguf + "/m.gguf")
        let ggufError = try #require(failure { _ = try ModelRegistry.locate(task: .chat, modelsDirectory: "/nonexistent", explicitPath: gguf) })
        #expect(ggufError.kind == .unknownType)
        #expect(ggufError.message.contains("general.architecture \"mamba\""))

        let ct2 = try folders.folder("translator")
        try folders.write(ModelFolders.ctranslate2(spec: "TransformerSpec"), to: ct2 + "/model.bin")
        #expect(failure { _ = try ModelRegistry.locate(task: .transcribe, modelsDirectory: "/nonexistent", explicitPath: ct2) }?.kind == .unknownType)
    }

    @Test func aModelOfAnotherTaskIsRefused() throws {
        let folders = try ModelFolders()
        let folder = try folders.folder("embedder")
        try folders.config(folder, #"{"model_type": "bert"}"#)
        let error = try #require(failure { _ = try ModelRegistry.locate(task: .chat, modelsDirectory: "/nonexistent", explicitPath: folder) })
        #expect(error.kind == .wrongTask)
        #expect(error.message.contains("serves embed, not chat"))
    }

    @Test func foldersThatDeclareNothingOrTooMuchAreErrors() throws {
        let folders = try ModelFolders()
        let missing = folders.scratch.root.appendingPathComponent("absent").path
        let missingError = try #require(failure { _ = try ModelDeclaration.read(missing) })
        #expect(missingError.kind == .missing)
        #expect(missingError.message.contains("fetch-models.sh"))

        let empty = try folders.folder("empty")
        #expect(failure { _ = try ModelDeclaration.read(empty) }?.kind == .undeclared)

        let untyped = try folders.folder("untyped")
        try folders.config(untyped, #"{"architectures": ["BertModel"]}"#)
        let untypedError = try #require(failure { _ = try ModelDeclaration.read(untyped) })
        #expect(untypedError.kind == .undeclared)
        #expect(untypedError.message.contains("BertModel"))

        let two = try folders.folder("two")
        try folders.write(ModelFolders.gguf(architecture: "llama"), to: two + "/a.gguf")
        try folders.write(ModelFolders.gguf(architecture: "llama"), to: two + "/b.gguf")
        let twoError = try #require(failure { _ = try ModelDeclaration.read(two) })
        #expect(twoError.kind == .ambiguous)
        #expect(twoError.message.contains("a.gguf, b.gguf"))

        let badJSON = try folders.folder("bad-json")
        try folders.config(badJSON, #"{"model_type": "bert",}"#)
        #expect(failure { _ = try ModelDeclaration.read(badJSON) }?.kind == .unreadable)

        // A FIFO must be refused, never opened (open would block for a writer).
        let fifo = try folders.folder("fifo")
        #expect(mkfifo(fifo + "/model.gguf", 0o644) == 0)
        let fifoError = try #require(failure { _ = try ModelDeclaration.read(fifo) })
        #expect(fifoError.kind == .unreadable)
        #expect(fifoError.message.contains("not a regular file"))

        let text = try folders.folder("text")
        try folders.write(Array("hello".utf8), to: text + "/notes.txt")
        #expect(failure { _ = try ModelDeclaration.read(text + "/notes.txt") }?.kind == .undeclared)
    }

    @Test func eachDeclaredTypeHasOneArchitectureAndEachTaskADefaultModel() throws {
        let types = ModelRegistry.knownTypes
        #expect(Set(types).count == types.count, "a declared type is in two rows: \(types)")
        // `train` has no model of its own: it trains heads on the other tasks'
        // models' vectors; `forget` deletes a stored conversation.
        for task in TaskName.allCases where task != .train && task != .forget {
            let folder = try #require(ModelRegistry.defaultModels[task], "no default model for \(task)")
            #expect(ModelRegistry.architectures.contains { $0.tasks.contains(task) }, "no architecture serves \(task)")
            #expect(!folder.contains("/"), "a default model is a folder directly under --models: \(folder)")
        }
    }

    /// scripts/fetch-models.sh fetches what scripts/models.lock lists: a
    /// default model the lock does not name could never be installed.
    @Test func everyDefaultModelIsFetchedByTheLockFile() throws {
        let lock = try String(contentsOfFile: TestPaths.inRepository("scripts/models.lock"), encoding: .utf8)
        let names = Set(lock.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap { $0.split(separator: " ").first.map(String.init) })
        for folder in Set(ModelRegistry.defaultModels.values) {
            #expect(names.contains(folder), "\(folder) is not in scripts/models.lock")
        }
    }

    /// Without weights every task is unavailable, each with its own reason,
    /// and a folder declaring an unknown type says so in its tasks' errors.
    @Test func theCatalogMarksTasksUnavailableWithTheRegistrysReason() throws {
        let folders = try ModelFolders()
        let models = try folders.folder("models")
        let embedder = try folders.folder("models/" + (try #require(ModelRegistry.defaultModels[.embed])))
        try folders.config(embedder, #"{"model_type": "t5"}"#)
        let registry = try PipelineCatalog.makeRegistry(PipelineCatalog.Options(modelsDirectory: models))
        #expect(registry.servedTasks.isEmpty)
        let reasons = Dictionary(uniqueKeysWithValues: registry.unavailableTasks.map { ($0.task, $0.reason) })
        #expect(Set(reasons.keys) == Set(TaskName.allCases))
        #expect(reasons[.embed]?.contains("model_type \"t5\"") == true, "\(reasons)")
        #expect(reasons[.chat]?.contains("fetch-models.sh") == true, "\(reasons)")
        #expect(reasons[.chat] == reasons[.complete], "chat and complete share one model folder")
        #expect(registry.missingPipeline(for: .embed).code == .unsupported)
    }
}
