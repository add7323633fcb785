import Foundation
import QuernFormats
import QuernJSON

extension ByteLevelBPE {
    /// The tokenizer a GGUF file carries in its metadata
    /// (`tokenizer.ggml.model = gpt2`: tokens, token types, merges, pre).
    public convenience init(gguf: GGUFFile) throws(TokenizerError) {
        let metadata: GGUFTokenizerMetadata
        do { metadata = try GGUFTokenizerMetadata(gguf: gguf) } catch {
            throw TokenizerError(.missingField, error.description)
        }
        try self.init(gguf: metadata, path: gguf.path)
    }

    /// The tokenizer of metadata already read from the GGUF file at `path`.
    public convenience init(gguf metadata: GGUFTokenizerMetadata, path: String) throws(TokenizerError) {
        guard metadata.model == "gpt2" else {
            throw TokenizerError(.unsupported, "\(path): tokenizer model \"\(metadata.model)\" is not byte-level BPE (gpt2)")
        }
        guard let merges = metadata.merges else {
            throw TokenizerError(.missingField, "\(path): metadata tokenizer.ggml.merges is missing")
        }
        let types = metadata.tokenTypes ?? [Int](repeating: 1, count: metadata.tokens.count)
        let kinds = try types.map { (value: Int) throws(TokenizerError) -> TokenKind in
            guard let kind = TokenKind(rawValue: value) else {
                throw TokenizerError(.invalidValue, "\(path): tokenizer.ggml.token_type holds unknown token type \(value)")
            }
            return kind
        }
        do {
            try self.init(tokens: metadata.tokens, kinds: kinds, merges: merges,
                          pretokenizer: PreTokenizerRules(ggufName: metadata.preTokenizer ?? "default"))
        } catch {
            throw TokenizerError(error.kind, "\(path): \(error.message)")
        }
    }

    /// A Hugging Face byte-level BPE tokenizer: `tokenizer.json`, or
    /// `vocab.json` + `merges.txt` (GPT-2's original files) in `directory`.
    public convenience init(huggingFaceDirectory directory: String) throws(TokenizerError) {
        let tokenizerJSON = directory + "/tokenizer.json"
        if FileManager.default.fileExists(atPath: tokenizerJSON) {
            try self.init(tokenizerJSON: tokenizerJSON)
            return
        }
        let vocabularyPath = directory + "/vocab.json", mergesPath = directory + "/merges.txt"
        guard FileManager.default.fileExists(atPath: vocabularyPath), FileManager.default.fileExists(atPath: mergesPath) else {
            throw TokenizerError(.missingField, "\(directory) has neither tokenizer.json nor vocab.json + merges.txt")
        }
        let vocabulary = try Self.vocabulary(try TokenizerFile.json(vocabularyPath), path: vocabularyPath, key: "the vocabulary")
        let mergesBytes: [UInt8]
        do { mergesBytes = try RegularFile.read(mergesPath) } catch { throw TokenizerError(.invalidValue, error.description) }
        guard let merges = String(validating: mergesBytes, as: UTF8.self) else {
            throw TokenizerError(.invalidValue, "\(mergesPath): not UTF-8 text")
        }
        let mergeLines = merges.split(separator: "\n", omittingEmptySubsequences: true)
            .map(String.init).filter { !$0.hasPrefix("#version") }
        try self.init(vocabulary: vocabulary, added: [], merges: mergeLines, source: vocabularyPath)
    }

    convenience init(tokenizerJSON path: String) throws(TokenizerError) {
        let root = try TokenizerFile.json(path)
        guard let model = root["model"], model.objectValue != nil else {
            throw TokenizerError(.invalidValue, "\(path): no \"model\" object, so this is not a tokenizer.json")
        }
        guard model["type"]?.stringValue == "BPE" else {
            throw TokenizerError(.unsupported, "\(path): model is not BPE")
        }
        if let type = root["pre_tokenizer"]?["type"]?.stringValue, type != "ByteLevel" {
            throw TokenizerError(.unsupported, "\(path): pre-tokenizer \(type) is not supported (ByteLevel is)")
        }
        guard let vocabularyNode = model["vocab"] else { throw TokenizerError(.missingField, "\(path): model.vocab is missing") }
        let vocabulary = try Self.vocabulary(vocabularyNode, path: path, key: "model.vocab")
        // Merges are "a b" strings (older files) or ["a", "b"] pairs (newer).
        var merges: [String] = []
        for (position, item) in (model["merges"]?.arrayValue ?? []).enumerated() {
            if let text = item.stringValue {
                merges.append(text)
            } else if let pair = item.arrayValue, pair.count == 2, let first = pair[0].stringValue, let second = pair[1].stringValue {
                merges.append(first + " " + second)
            } else {
                throw TokenizerError(.invalidValue, "\(path): model.merges[\(position)] is neither \"a b\" nor [a, b]")
            }
        }
        var added: [(String, Int, Bool)] = []
        for (position, item) in (root["added_tokens"]?.arrayValue ?? []).enumerated() {
            guard let content = item["content"]?.stringValue, let id = item["id"]?.intValue else {
                throw TokenizerError(.invalidValue, "\(path): added_tokens[\(position)] needs a string content and an integer id")
            }
            added.append((content, id, item["special"]?.boolValue ?? false))
        }
        try self.init(vocabulary: vocabulary, added: added, merges: merges, source: path)
    }

    /// A token → id object (`vocab.json`, or tokenizer.json's `model.vocab`).
    private static func vocabulary(_ node: JSONValue, path: String, key: String) throws(TokenizerError) -> [String: Int] {
        guard let members = node.objectValue else {
            throw TokenizerError(.invalidValue, "\(path): \(key) must be an object of token ids, got \(node.typeName)")
        }
        var vocabulary: [String: Int] = [:]
        vocabulary.reserveCapacity(members.count)
        for (token, value) in members {
            guard let id = value.intValue else {
                throw TokenizerError(.invalidValue, "\(path): \(key) entry \(String(reflecting: token)) is not an integer id")
            }
            vocabulary[token] = id
        }
        return vocabulary
    }

    /// `source` names the file in errors.
    convenience init(vocabulary: [String: Int], added: [(String, Int, Bool)], merges: [String], source: String) throws(TokenizerError) {
        let size = max(vocabulary.values.max() ?? -1, added.map(\.1).max() ?? -1) + 1
        guard size > 0, size <= 10_000_000 else { throw TokenizerError(.invalidValue, "\(source): vocabulary ids out of range") }
        var tokens = [String](repeating: "", count: size)
        var kinds = [TokenKind](repeating: .unused, count: size)
        for (token, id) in vocabulary where id >= 0 {
            tokens[id] = token
            kinds[id] = .normal
        }
        for (content, id, special) in added where id >= 0 {
            tokens[id] = content
            kinds[id] = special ? .control : .userDefined
        }
        do { try self.init(tokens: tokens, kinds: kinds, merges: merges, pretokenizer: .gpt2) } catch {
            throw TokenizerError(error.kind, "\(source): \(error.message)")
        }
    }
}
