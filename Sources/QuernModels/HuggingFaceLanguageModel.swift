import Foundation
import QuernFormats
import QuernTokenizers

/// Loads a Hugging Face causal-LM folder: `config.json` (its `model_type`
/// picks the architecture), safetensors weights, tokenizer files and
/// optionally `generation_config.json` / `tokenizer_config.json`. The JSON
/// files are read into their typed structs here, once; an optional file
/// that is absent gives the defaults, one that is present but broken is an
/// error naming it.
enum HuggingFaceLanguageModel {
    static func load(directory: String) throws -> LoadedLanguageModel {
        let configPath = directory + "/config.json"
        let config = try JSONFile.read(configPath)
        let checkpoint = try SafetensorsCheckpoint(directory: directory)
        let weights = WeightBinder(file: checkpoint.path, tensors: checkpoint.tensors)
        let modelType = try JSONFile.decode(HuggingFaceModelType.self, from: config, path: configPath).modelType ?? "unknown"
        let model: any CausalLanguageModel
        // The ids config.json itself gives, beside generation_config.json's.
        let configEndTokens: TokenIDs?, configBeginToken: Int?
        switch modelType {
        case "llama", "mistral":
            let file = try JSONFile.decode(LlamaConfigFile.self, from: config, path: configPath)
            model = try LlamaModel(huggingFaceConfig: file, weights: weights)
            (configEndTokens, configBeginToken) = (file.eosTokenID, file.bosTokenID)
        case "gpt2":
            let file = try JSONFile.decode(GPT2ConfigFile.self, from: config, path: configPath)
            model = try GPT2Model(huggingFaceConfig: file, weights: weights)
            (configEndTokens, configBeginToken) = (file.eosTokenID, file.bosTokenID)
        default:
            throw ModelError(.unsupportedArchitecture, "\(directory): model_type \"\(modelType)\" is not supported (llama, mistral, gpt2 are)")
        }
        let tokenizer = try ByteLevelBPE(huggingFaceDirectory: directory)
        let generation = try JSONFile.decodeIfPresent(GenerationConfigFile.self, at: directory + "/generation_config.json") ?? GenerationConfigFile()
        let tokenizerConfig = try JSONFile.decodeIfPresent(TokenizerConfigFile.self, at: directory + "/tokenizer_config.json") ?? TokenizerConfigFile()
        var endTokens = Set(generation.eosTokenID?.ids ?? [])
        endTokens.formUnion(configEndTokens?.ids ?? [])
        let templateSource = tokenizerConfig.chatTemplateText
        let template = templateSource.flatMap { ChatTemplate.detect(jinja: $0) }
        if let template, let id = tokenizer.id(of: template.endOfTurn) { endTokens.insert(id) }
        let bos = generation.bosTokenID ?? configBeginToken
        let tokenizerFile = FileManager.default.fileExists(atPath: directory + "/tokenizer.json") ? "tokenizer.json" : "vocab.json"
        try LanguageModelLoader.checkVocabulary(
            of: tokenizer, source: directory + "/" + tokenizerFile, fitsEmbeddingRows: model.vocabularySize,
            specialIDs: endTokens.sorted().map { ("eos_token_id", $0) } + [("bos_token_id", bos)])
        let name = URL(fileURLWithPath: directory).lastPathComponent
        return LoadedLanguageModel(name: name, model: model, tokenizer: tokenizer, chatTemplate: template, chatTemplateSource: templateSource,
                                   endOfGenerationTokens: endTokens, beginToken: bos,
                                   addBeginToken: tokenizerConfig.addBOSToken ?? false, weightsPath: checkpoint.path)
    }
}
