import Foundation
import QuernFormats
import QuernTensor
import QuernTokenizers

/// A language model ready to run: weights, tokenizer, chat template and the
/// tokens that end generation.
public struct LoadedLanguageModel: @unchecked Sendable {
    public let name: String
    public let model: any CausalLanguageModel
    public let tokenizer: ByteLevelBPE
    public let chatTemplate: ChatTemplate?
    /// The raw Jinja template, when the model has one.
    public let chatTemplateSource: String?
    public let endOfGenerationTokens: Set<Int>
    public let beginToken: Int?
    public let addBeginToken: Bool
    /// Path of the weights file (for the result's checksum).
    public let weightsPath: String

    public var generator: TextGenerator { TextGenerator(model: model, tokenizer: tokenizer, endTokens: endOfGenerationTokens) }

    /// Tokens of a raw prompt (with BOS when the model wants one).
    public func tokens(for prompt: String) -> [Int] {
        let ids = tokenizer.encode(prompt, parseSpecial: true)
        if addBeginToken, let begin = beginToken, ids.first != begin { return [begin] + ids }
        return ids
    }
}

/// Maps a checkpoint's declared architecture to a model constructor; an
/// unknown architecture is an error, never a silent fallback.
public enum LanguageModelLoader {
    public static let architectures = ["llama", "gpt2"]

    /// Loads a `.gguf` file, or a Hugging Face folder (config.json +
    /// safetensors + tokenizer files).
    public static func load(path: String) throws -> LoadedLanguageModel {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw FormatError(.io, file: path, "no such file or folder")
        }
        if isDirectory.boolValue { return try HuggingFaceLanguageModel.load(directory: path) }
        return try loadGGUF(path: path)
    }

    /// Only the tokenizer (no weights are bound).
    public static func loadTokenizer(path: String) throws -> ByteLevelBPE {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw FormatError(.io, file: path, "no such file or folder")
        }
        if isDirectory.boolValue { return try ByteLevelBPE(huggingFaceDirectory: path) }
        return try ByteLevelBPE(gguf: GGUFFile(path: path))
    }

    static func loadGGUF(path: String) throws -> LoadedLanguageModel {
        let gguf = try GGUFFile(path: path)
        let architecture = try gguf.string("general.architecture")
        let model: any CausalLanguageModel
        switch architecture {
        case "llama": model = try LlamaModel(gguf: gguf)
        case "gpt2": model = try GPT2Model(gguf: gguf)
        default:
            throw ModelError(.unsupportedArchitecture, "\(path): architecture \"\(architecture)\" is not supported (\(architectures.joined(separator: ", ")) are)")
        }
        let tokenizer = try ByteLevelBPE(gguf: gguf)
        var endTokens = Set<Int>()
        if let eos = try gguf.optionalInteger("tokenizer.ggml.eos_token_id") { endTokens.insert(eos) }
        if let eot = try gguf.optionalInteger("tokenizer.ggml.eot_token_id") { endTokens.insert(eot) }
        let template = gguf.metadata["tokenizer.chat_template"] == nil ? nil : try gguf.string("tokenizer.chat_template")
        let chat = template.flatMap { ChatTemplate.detect(jinja: $0) }
        // The template's own end-of-turn token ends generation too.
        if let chat, let id = tokenizer.id(of: chat.endOfTurn) { endTokens.insert(id) }
        let bos = try gguf.optionalInteger("tokenizer.ggml.bos_token_id")
        let addBOS: Bool
        if case .bool(let flag)? = gguf.metadata["tokenizer.ggml.add_bos_token"] { addBOS = flag } else { addBOS = false }
        // The file name identifies the exact weights better than general.name
        // (SmolLM2's says "Smollm2 135M 8k Lc100K Mix1 Ep2").
        let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        return LoadedLanguageModel(name: name, model: model, tokenizer: tokenizer, chatTemplate: chat, chatTemplateSource: template,
                                   endOfGenerationTokens: endTokens, beginToken: bos, addBeginToken: addBOS, weightsPath: path)
    }
}
