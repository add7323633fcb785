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

    /// Tokens of a prompt whose special-token text is meant as such (a
    /// template rendered by Quern, or an operator's own prompt), with BOS
    /// when the model wants one. Never for text a user sent: see
    /// `tokens(forUserText:)` and `tokens(for: [PromptPart])`.
    public func tokens(for prompt: String) -> [Int] {
        withBeginToken(tokenizer.encode(prompt, parseSpecial: true))
    }

    /// Tokens of text a user sent (a completion prompt), with BOS when the
    /// model wants one. Special-token text in it stays ordinary text, as
    /// llama.cpp does for user content (`parse_special = false`).
    public func tokens(forUserText text: String) -> [Int] {
        withBeginToken(tokenizer.encode(text, parseSpecial: false))
    }

    /// The ids of a conversation rendered through `template` (ending with
    /// the assistant's opening), contents tokenized as user text.
    public func tokens(forChat messages: [ChatMessage], template: ChatTemplate) -> [Int] {
        let parts = template.beginParts + template.conversation(messages).flatMap { template.parts(of: $0) } + template.generationPromptParts
        return withBeginToken(tokens(for: parts))
    }

    /// BOS first, when the model wants one and `ids` do not start with it.
    public func withBeginToken(_ ids: [Int]) -> [Int] {
        if needsBeginToken(before: ids.first), let begin = beginToken { return [begin] + ids }
        return ids
    }

    /// Whether `withBeginToken` adds BOS to ids that start with `first`.
    public func needsBeginToken(before first: Int?) -> Bool {
        guard addBeginToken, let begin = beginToken else { return false }
        return first != begin
    }

    /// Tokens of a piece of a chat prompt (no BOS). A marker that is one
    /// special token of the vocabulary becomes that token; all other text,
    /// including a marker the vocabulary lacks, is tokenized with
    /// special-token parsing off. Between markers the text is tokenized in
    /// one run, so for contents without special-token text this gives the
    /// same ids as tokenizing the rendered prompt with specials parsed.
    public func tokens(for parts: [PromptPart]) -> [Int] {
        var ids: [Int] = []
        forEachRun(of: parts) { run in
            switch run {
            case let .special(id): ids.append(id)
            case let .text(text): ids += tokenizer.encode(text, parseSpecial: false)
            }
        }
        return ids
    }

    /// A lower bound on `tokens(for: parts).count`, from byte lengths
    /// alone (see `ByteLevelBPE.longestTokenBytes`): no text is tokenized.
    public func minimumTokenCount(for parts: [PromptPart]) -> Int {
        var count = 0
        forEachRun(of: parts) { run in
            switch run {
            case .special: count += 1
            case let .text(text): count += tokenizer.minimumTokenCount(byteCount: text.utf8.count)
            }
        }
        return count
    }

    private enum PromptRun { case special(Int), text(String) }

    /// Joins `parts` into runs: a special token, or the text between two.
    private func forEachRun(of parts: [PromptPart], _ body: (PromptRun) -> Void) {
        var pending = ""
        for part in parts {
            switch part {
            case let .marker(text):
                if let id = tokenizer.specialTokenID(text) {
                    if !pending.isEmpty { body(.text(pending)) }
                    pending = ""
                    body(.special(id))
                } else {
                    pending += text
                }
            case let .text(text):
                pending += text
            }
        }
        if !pending.isEmpty { body(.text(pending)) }
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

    /// Refuses, at load, a tokenizer that can produce an id the model has
    /// no embedding row for (and special-token ids outside the model),
    /// which would otherwise surface only when a request hits that token.
    /// Empty unused slots (gaps in a Hugging Face vocabulary) cannot be
    /// produced and are not checked.
    static func checkVocabulary(of tokenizer: ByteLevelBPE, source: String, fitsEmbeddingRows rows: Int,
                                specialIDs: [(name: String, id: Int?)]) throws(ModelError) {
        for id in rows..<max(rows, tokenizer.vocabularySize) where !(tokenizer.kinds[id] == .unused && tokenizer.tokens[id].isEmpty) {
            throw ModelError(.vocabularyMismatch, "\(source): token id \(id) \(String(reflecting: tokenizer.tokens[id])) is outside the model's \(rows) embedding rows (the tokenizer has \(tokenizer.vocabularySize) ids)")
        }
        for (name, id) in specialIDs {
            guard let id else { continue }
            guard id >= 0, id < rows else {
                throw ModelError(.vocabularyMismatch, "\(source): \(name) \(id) is outside the model's \(rows) embedding rows")
            }
        }
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
        let metadata = try GGUFTokenizerMetadata(gguf: gguf)
        let tokenizer = try ByteLevelBPE(gguf: metadata, path: path)
        let eos = metadata.endTokenID, eot = metadata.endOfTurnTokenID, bos = metadata.beginTokenID
        try checkVocabulary(of: tokenizer, source: "\(path) (tokenizer.ggml.tokens)", fitsEmbeddingRows: model.vocabularySize,
                            specialIDs: [("tokenizer.ggml.eos_token_id", eos), ("tokenizer.ggml.eot_token_id", eot), ("tokenizer.ggml.bos_token_id", bos)])
        var endTokens = Set<Int>()
        if let eos { endTokens.insert(eos) }
        if let eot { endTokens.insert(eot) }
        let template = metadata.chatTemplate
        let chat = template.flatMap { ChatTemplate.detect(jinja: $0) }
        // The template's own end-of-turn token ends generation too.
        if let chat, let id = tokenizer.id(of: chat.endOfTurn) { endTokens.insert(id) }
        // The file name identifies the exact weights better than general.name
        // (SmolLM2's says "Smollm2 135M 8k Lc100K Mix1 Ep2").
        let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        return LoadedLanguageModel(name: name, model: model, tokenizer: tokenizer, chatTemplate: chat, chatTemplateSource: template,
                                   endOfGenerationTokens: endTokens, beginToken: bos, addBeginToken: metadata.addBeginToken ?? false, weightsPath: path)
    }
}
