import Foundation
import QuernFormats

extension ByteLevelBPE {
    /// The tokenizer a GGUF file carries in its metadata
    /// (`tokenizer.ggml.model = gpt2`: tokens, token types, merges, pre).
    public convenience init(gguf: GGUFFile) throws(TokenizerError) {
        do {
            let model = try gguf.string("tokenizer.ggml.model")
            guard model == "gpt2" else {
                throw TokenizerError(.unsupported, "tokenizer model \"\(model)\" is not byte-level BPE (gpt2)")
            }
            let tokens = try gguf.strings("tokenizer.ggml.tokens")
            let types = gguf.metadata["tokenizer.ggml.token_type"] == nil
                ? [Int](repeating: 1, count: tokens.count) : try gguf.integers("tokenizer.ggml.token_type")
            let kinds = try types.map { (value: Int) throws(TokenizerError) -> TokenKind in
                guard let kind = TokenKind(rawValue: value) else { throw TokenizerError(.invalidValue, "unknown token type \(value)") }
                return kind
            }
            let merges = try gguf.strings("tokenizer.ggml.merges")
            let pre = gguf.metadata["tokenizer.ggml.pre"] == nil ? "default" : try gguf.string("tokenizer.ggml.pre")
            try self.init(tokens: tokens, kinds: kinds, merges: merges, pretokenizer: PreTokenizerRules(ggufName: pre))
        } catch let error as FormatError {
            throw TokenizerError(.missingField, error.description)
        } catch let error as TokenizerError {
            throw error
        } catch {
            throw TokenizerError(.invalidValue, "\(error)")
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
        guard let vocabData = FileManager.default.contents(atPath: directory + "/vocab.json"),
              let merges = try? String(contentsOfFile: directory + "/merges.txt", encoding: .utf8),
              let vocab = (try? JSONSerialization.jsonObject(with: vocabData)) as? [String: Int]
        else {
            throw TokenizerError(.missingField, "\(directory) has neither tokenizer.json nor vocab.json + merges.txt")
        }
        let mergeLines = merges.split(separator: "\n", omittingEmptySubsequences: true)
            .map(String.init).filter { !$0.hasPrefix("#version") }
        try self.init(vocabulary: vocab, added: [], merges: mergeLines)
    }

    convenience init(tokenizerJSON path: String) throws(TokenizerError) {
        guard let data = FileManager.default.contents(atPath: path),
              let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              let model = root["model"] as? [String: Any]
        else { throw TokenizerError(.invalidValue, "\(path) is not a tokenizer.json object") }
        guard (model["type"] as? String) == "BPE", let vocab = model["vocab"] as? [String: Int] else {
            throw TokenizerError(.unsupported, "\(path): model is not BPE")
        }
        if let pre = root["pre_tokenizer"] as? [String: Any], let type = pre["type"] as? String, type != "ByteLevel" {
            throw TokenizerError(.unsupported, "\(path): pre-tokenizer \(type) is not supported (ByteLevel is)")
        }
        // Merges are "a b" strings (older files) or ["a", "b"] pairs (newer).
        var merges: [String] = []
        for item in model["merges"] as? [Any] ?? [] {
            if let text = item as? String {
                merges.append(text)
            } else if let pair = item as? [String], pair.count == 2 {
                merges.append(pair[0] + " " + pair[1])
            } else {
                throw TokenizerError(.invalidValue, "\(path): a merge is neither \"a b\" nor [a, b]")
            }
        }
        var added: [(String, Int, Bool)] = []
        for item in root["added_tokens"] as? [[String: Any]] ?? [] {
            if let content = item["content"] as? String, let id = item["id"] as? Int {
                added.append((content, id, item["special"] as? Bool ?? false))
            }
        }
        try self.init(vocabulary: vocab, added: added, merges: merges)
    }

    convenience init(vocabulary: [String: Int], added: [(String, Int, Bool)], merges: [String]) throws(TokenizerError) {
        let size = max(vocabulary.values.max() ?? -1, added.map(\.1).max() ?? -1) + 1
        guard size > 0, size <= 10_000_000 else { throw TokenizerError(.invalidValue, "vocabulary ids out of range") }
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
        try self.init(tokens: tokens, kinds: kinds, merges: merges, pretokenizer: .gpt2)
    }
}
