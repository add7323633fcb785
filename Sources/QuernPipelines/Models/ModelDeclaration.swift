import Foundation
import QuernFormats
import QuernModels

/// What a model file or folder says it is, read from its own files. The
/// registry maps the declared type to the architecture that loads it;
/// nothing here knows which types Quern can run.
public struct ModelDeclaration: Sendable, Equatable {
    public enum DeclaredType: Sendable, Hashable, CustomStringConvertible {
        /// A GGUF file's `general.architecture` ("llama", "gpt2").
        case ggufArchitecture(String)
        /// A Hugging Face folder's `config.json` `model_type` ("bert", "whisper").
        case configModelType(String)
        /// A CTranslate2 `model.bin`'s spec name ("WhisperSpec").
        case ctranslate2Spec(String)
        /// An `.onnx` file. ONNX names no architecture: the graph's operators
        /// decide, and the loader refuses operators it does not know by name.
        case onnxGraph
        /// A `.safetensors` file with no `config.json` beside it (a PyTorch
        /// state dict): only tensor names say what it holds.
        case safetensorsStateDict

        public var description: String {
            switch self {
            case let .ggufArchitecture(name): return "GGUF general.architecture \"\(name)\""
            case let .configModelType(name): return "config.json model_type \"\(name)\""
            case let .ctranslate2Spec(name): return "CTranslate2 spec \"\(name)\""
            case .onnxGraph: return "an ONNX graph"
            case .safetensorsStateDict: return "a safetensors state dict without config.json"
            }
        }
    }

    public var declaredType: DeclaredType
    /// What the architecture's loader is given: the file for the one-file
    /// formats (GGUF, ONNX, a state dict), the folder for the others.
    public var loadPath: String
    /// The file the type was read from.
    public var source: String
    /// `config.json`'s `architectures` (e.g. ["BertModel"]) when it has them;
    /// only for messages.
    public var architectures: [String] = []

    public init(declaredType: DeclaredType, loadPath: String, source: String, architectures: [String] = []) {
        self.declaredType = declaredType
        self.loadPath = loadPath
        self.source = source
        self.architectures = architectures
    }
}

extension ModelDeclaration {
    static let ctranslate2FileName = CTranslate2Model.fileName
    static let configFileName = "config.json"

    /// Reads what `path` declares. A folder is judged by the files in it, in
    /// this order: a CTranslate2 `model.bin` (its `config.json` is
    /// CTranslate2's own, without `model_type`), one `.gguf` file, one `.onnx`
    /// file, `config.json`, one `.safetensors` file. Hidden files (the
    /// fetch script's `.quern-model.json`) are ignored. A file is judged by
    /// its name the same way.
    public static func read(_ path: String) throws(ModelRegistryError) -> ModelDeclaration {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ModelRegistryError(.missing, path: path, "model folder \(path) is missing; run scripts/fetch-models.sh (or point --models at the folder holding it)")
        }
        if isDirectory.boolValue { return try readFolder(path) }
        return try readFile(path)
    }

    private static func readFolder(_ folder: String) throws(ModelRegistryError) -> ModelDeclaration {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { !$0.hasPrefix(".") }.sorted()
        } catch {
            throw ModelRegistryError(.unreadable, path: folder, "cannot list model folder \(folder): \(error.localizedDescription)")
        }
        if names.contains(ctranslate2FileName) { return try readCTranslate2(folder + "/" + ctranslate2FileName) }
        if let gguf = try single(in: names, extension: "gguf", folder: folder) { return try readGGUF(folder + "/" + gguf) }
        if let onnx = try single(in: names, extension: "onnx", folder: folder) {
            return ModelDeclaration(declaredType: .onnxGraph, loadPath: folder + "/" + onnx, source: folder + "/" + onnx)
        }
        if names.contains(configFileName) { return try readConfig(folder + "/" + configFileName) }
        if let stateDict = try single(in: names, extension: "safetensors", folder: folder) {
            return ModelDeclaration(declaredType: .safetensorsStateDict, loadPath: folder + "/" + stateDict, source: folder + "/" + stateDict)
        }
        throw ModelRegistryError(.undeclared, path: folder,
                                 "model folder \(folder) holds no file that says what model it is (config.json, a .gguf or .onnx file, a CTranslate2 model.bin or a .safetensors state dict)")
    }

    private static func readFile(_ file: String) throws(ModelRegistryError) -> ModelDeclaration {
        let name = (file as NSString).lastPathComponent
        switch name.lowercased() {
        case ctranslate2FileName: return try readCTranslate2(file)
        case configFileName: return try readConfig(file)
        case let lowered where lowered.hasSuffix(".gguf"): return try readGGUF(file)
        case let lowered where lowered.hasSuffix(".onnx"): return ModelDeclaration(declaredType: .onnxGraph, loadPath: file, source: file)
        case let lowered where lowered.hasSuffix(".safetensors"):
            return ModelDeclaration(declaredType: .safetensorsStateDict, loadPath: file, source: file)
        default:
            throw ModelRegistryError(.undeclared, path: file,
                                     "model file \(file) is not a .gguf, .onnx or .safetensors file, a CTranslate2 model.bin or a config.json, so nothing says what model it is")
        }
    }

    /// The one name with `extension` (any case), nil when there is none; two
    /// are an error rather than a guess.
    private static func single(in names: [String], extension wanted: String, folder: String) throws(ModelRegistryError) -> String? {
        let matching = names.filter { ($0 as NSString).pathExtension.lowercased() == wanted }
        guard matching.count <= 1 else {
            throw ModelRegistryError(.ambiguous, path: folder,
                                     "model folder \(folder) holds \(matching.count) .\(wanted) files (\(matching.joined(separator: ", "))); keep one, or give the file itself")
        }
        return matching.first
    }

    private static func readGGUF(_ file: String) throws(ModelRegistryError) -> ModelDeclaration {
        do {
            let architecture = try GGUFFile(path: file).string("general.architecture")
            return ModelDeclaration(declaredType: .ggufArchitecture(architecture), loadPath: file, source: file)
        } catch {
            throw ModelRegistryError(.unreadable, path: file, "cannot read what model \(file) is: \(error)")
        }
    }

    private static func readCTranslate2(_ file: String) throws(ModelRegistryError) -> ModelDeclaration {
        do {
            let spec = try CTranslate2Model(path: file).specName
            return ModelDeclaration(declaredType: .ctranslate2Spec(spec), loadPath: (file as NSString).deletingLastPathComponent, source: file)
        } catch {
            throw ModelRegistryError(.unreadable, path: file, "cannot read what model \(file) is: \(error)")
        }
    }

    /// `model_type` decides; `architectures` (class names such as
    /// "LlamaForCausalLM") is kept for messages, since the loaders key on
    /// `model_type`.
    private static func readConfig(_ file: String) throws(ModelRegistryError) -> ModelDeclaration {
        let config: HuggingFaceModelType
        do { config = try JSONFile.decode(HuggingFaceModelType.self, at: file) } catch {
            throw ModelRegistryError(.unreadable, path: file, "cannot read what model \(file) is: \(error.message)")
        }
        let architectures = config.architectures ?? []
        guard let modelType = config.modelType, !modelType.isEmpty else {
            let named = architectures.isEmpty ? "" : " (its architectures: \(architectures.joined(separator: ", ")))"
            throw ModelRegistryError(.undeclared, path: file, "\(file) has no \"model_type\"\(named), so nothing says what model it is")
        }
        return ModelDeclaration(declaredType: .configModelType(modelType), loadPath: (file as NSString).deletingLastPathComponent,
                                source: file, architectures: architectures)
    }
}
