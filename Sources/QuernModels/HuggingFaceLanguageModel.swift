import Foundation
import QuernFormats
import QuernTokenizers

/// Loads a Hugging Face causal-LM folder: `config.json` (its `model_type`
/// picks the architecture), safetensors weights, tokenizer files and
/// optionally `generation_config.json` / `tokenizer_config.json`.
enum HuggingFaceLanguageModel {
    static func load(directory: String) throws -> LoadedLanguageModel {
        let config = try readJSON(directory + "/config.json")
        let checkpoint = try SafetensorsCheckpoint(directory: directory)
        let weights = WeightBinder(file: checkpoint.path, tensors: checkpoint.tensors)
        let modelType = config["model_type"] as? String ?? "unknown"
        let model: any CausalLanguageModel
        switch modelType {
        case "llama", "mistral": model = try LlamaModel(huggingFaceConfig: config, weights: weights)
        case "gpt2": model = try GPT2Model(huggingFaceConfig: config, weights: weights)
        default:
            throw ModelError(.unsupportedArchitecture, "\(directory): model_type \"\(modelType)\" is not supported (llama, mistral, gpt2 are)")
        }
        let tokenizer = try ByteLevelBPE(huggingFaceDirectory: directory)
        let generation = (try? readJSON(directory + "/generation_config.json")) ?? [:]
        let tokenizerConfig = (try? readJSON(directory + "/tokenizer_config.json")) ?? [:]
        var endTokens = Set<Int>()
        for source in [generation["eos_token_id"], config["eos_token_id"]] {
            if let id = source as? Int { endTokens.insert(id) }
            if let ids = source as? [Int] { endTokens.formUnion(ids) }
        }
        let templateSource = tokenizerConfig["chat_template"] as? String
        let template = templateSource.flatMap { ChatTemplate.detect(jinja: $0) }
        if let template, let id = tokenizer.id(of: template.endOfTurn) { endTokens.insert(id) }
        let bos = (generation["bos_token_id"] ?? config["bos_token_id"]) as? Int
        let tokenizerFile = FileManager.default.fileExists(atPath: directory + "/tokenizer.json") ? "tokenizer.json" : "vocab.json"
        try LanguageModelLoader.checkVocabulary(
            of: tokenizer, source: directory + "/" + tokenizerFile, fitsEmbeddingRows: model.vocabularySize,
            specialIDs: endTokens.sorted().map { ("eos_token_id", $0) } + [("bos_token_id", bos)])
        let name = URL(fileURLWithPath: directory).lastPathComponent
        return LoadedLanguageModel(name: name, model: model, tokenizer: tokenizer, chatTemplate: template, chatTemplateSource: templateSource,
                                   endOfGenerationTokens: endTokens, beginToken: bos,
                                   addBeginToken: tokenizerConfig["add_bos_token"] as? Bool ?? false, weightsPath: checkpoint.path)
    }

    static func readJSON(_ path: String) throws -> [String: Any] {
        let data = Data(try RegularFile.read(path))
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw FormatError(.invalidValue, file: path, "not a JSON object")
        }
        return object
    }
}
