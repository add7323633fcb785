import Foundation
import QuernFormats
import QuernJSON

/// Builds a `WordPieceTokenizer` from a model folder: `tokenizer.json` when
/// present (every stage as it declares), else `vocab.txt` with the options
/// of `tokenizer_config.json`.
///
/// tokenizer.json's own `truncation` and `padding` sections are ignored on
/// purpose: the maximum length belongs to the model (sentence-transformers
/// takes 256 from sentence_bert_config.json while all-MiniLM-L6-v2's
/// tokenizer.json says 128), and padding is decided per batch.
extension WordPieceTokenizer {
    public static func load(directory: String) throws(TokenizerError) -> WordPieceTokenizer {
        let json = directory + "/tokenizer.json"
        if FileManager.default.fileExists(atPath: json) { return try load(tokenizerJSON: json) }
        let vocabulary = directory + "/vocab.txt"
        if FileManager.default.fileExists(atPath: vocabulary) {
            let configuration = directory + "/tokenizer_config.json"
            return try load(vocabularyFile: vocabulary, configuration: FileManager.default.fileExists(atPath: configuration) ? configuration : nil)
        }
        throw TokenizerError(.missingField, "\(directory) has neither tokenizer.json nor vocab.txt")
    }

    public static func load(tokenizerJSON path: String) throws(TokenizerError) -> WordPieceTokenizer {
        let document = try TokenizerFile.json(path)
        func field(_ name: String) -> JSONValue? { document[name].flatMap { $0.isNull ? nil : $0 } }

        guard let modelNode = field("model"), modelNode.objectValue != nil else { throw TokenizerError(.missingField, "\(path): no \"model\" object") }
        guard modelNode["type"]?.stringValue == "WordPiece" else {
            throw TokenizerError(.unsupported, "\(path): model type \(modelNode["type"]?.stringValue ?? "missing") is not WordPiece")
        }
        guard let vocabularyNode = modelNode["vocab"]?.objectValue else { throw TokenizerError(.missingField, "\(path): no model.vocab object") }
        var vocabulary: [String: Int] = [:]
        vocabulary.reserveCapacity(vocabularyNode.count)
        for (token, value) in vocabularyNode {
            guard let id = value.intValue, id >= 0 else { throw TokenizerError(.invalidValue, "\(path): model.vocab[\(token)] is not a non-negative integer") }
            vocabulary[token] = id
        }
        let model = try WordPieceModel(
            vocabulary: vocabulary,
            unknownToken: modelNode["unk_token"]?.stringValue ?? "[UNK]",
            continuingPrefix: modelNode["continuing_subword_prefix"]?.stringValue ?? "##",
            maximumCharactersPerWord: modelNode["max_input_chars_per_word"]?.intValue ?? 100)

        let normalizer = try normalizer(field("normalizer"), path: path)
        if let pre = field("pre_tokenizer"), pre["type"]?.stringValue != "BertPreTokenizer" {
            throw TokenizerError(.unsupported, "\(path): pre_tokenizer \(pre["type"]?.stringValue ?? "?") is not supported (BertPreTokenizer is)")
        }
        let addedTokens = try addedTokens(field("added_tokens"), path: path)
        let (prefix, suffix) = try postProcessor(field("post_processor"), vocabulary: vocabulary, added: addedTokens, path: path)
        let paddingID = field("padding")?["pad_id"]?.intValue ?? vocabulary["[PAD]"] ?? 0
        return WordPieceTokenizer(normalizer: normalizer, model: model, addedTokens: addedTokens, prefixIDs: prefix, suffixIDs: suffix, paddingID: paddingID)
    }

    /// The BERT tokenizer of a `vocab.txt` (one token per line, id = line
    /// number) and the usual `tokenizer_config.json` options.
    public static func load(vocabularyFile path: String, configuration: String?) throws(TokenizerError) -> WordPieceTokenizer {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw TokenizerError(.invalidValue, "cannot read \(path) as UTF-8 text: \(error.localizedDescription)")
        }
        var vocabulary: [String: Int] = [:]
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.hasSuffix("\r") ? $0.dropLast() : $0 }
        if lines.last?.isEmpty == true { lines.removeLast() }
        for (id, line) in lines.enumerated() where vocabulary[String(line)] == nil { vocabulary[String(line)] = id }

        let options = try configuration.map { path throws(TokenizerError) in try TokenizerFile.json(path) }
        func flag(_ name: String) -> Bool? { options?[name]?.boolValue }
        func token(_ name: String, _ fallback: String) -> String { options?[name]?.stringValue ?? fallback }
        let lowercase = flag("do_lower_case") ?? true
        let normalizer = BertNormalizer(cleanText: true, handleChineseCharacters: flag("tokenize_chinese_chars") ?? true,
                                        stripAccents: flag("strip_accents"), lowercase: lowercase)
        let unknown = token("unk_token", "[UNK]")
        let model = try WordPieceModel(vocabulary: vocabulary, unknownToken: unknown)
        var added: [AddedToken] = []
        for name in [token("pad_token", "[PAD]"), unknown, token("cls_token", "[CLS]"), token("sep_token", "[SEP]"), token("mask_token", "[MASK]")] {
            if let id = vocabulary[name], !added.contains(where: { $0.id == id }) { added.append(AddedToken(content: name, id: id, special: true)) }
        }
        guard let cls = vocabulary[token("cls_token", "[CLS]")], let sep = vocabulary[token("sep_token", "[SEP]")] else {
            throw TokenizerError(.missingField, "\(path): the vocabulary has no [CLS] or [SEP] token")
        }
        return WordPieceTokenizer(normalizer: normalizer, model: model, addedTokens: added, prefixIDs: [cls], suffixIDs: [sep],
                                  paddingID: vocabulary[token("pad_token", "[PAD]")] ?? 0)
    }

    private static func normalizer(_ node: JSONValue?, path: String) throws(TokenizerError) -> BertNormalizer? {
        guard let node else { return nil }
        guard node["type"]?.stringValue == "BertNormalizer" else {
            throw TokenizerError(.unsupported, "\(path): normalizer \(node["type"]?.stringValue ?? "?") is not supported (BertNormalizer is)")
        }
        func flag(_ name: String, _ fallback: Bool) -> Bool { node[name]?.boolValue ?? fallback }
        return BertNormalizer(cleanText: flag("clean_text", true), handleChineseCharacters: flag("handle_chinese_chars", true),
                              stripAccents: node["strip_accents"]?.boolValue, lowercase: flag("lowercase", true))
    }

    private static func addedTokens(_ node: JSONValue?, path: String) throws(TokenizerError) -> [AddedToken] {
        guard let list = node?.arrayValue else { return [] }
        var tokens: [AddedToken] = []
        for (position, item) in list.enumerated() {
            guard let content = item["content"]?.stringValue, let id = item["id"]?.intValue, id >= 0 else {
                throw TokenizerError(.invalidValue, "\(path): added_tokens[\(position)] needs a string content and an id")
            }
            // Only tokens matched verbatim in the raw text are implemented;
            // the others change how surrounding text is cut.
            for option in ["lstrip", "rstrip", "single_word", "normalized"] where item[option]?.boolValue == true {
                throw TokenizerError(.unsupported, "\(path): added token \(content) sets \(option), which Quern's WordPiece tokenizer does not support")
            }
            tokens.append(AddedToken(content: content, id: id, special: item["special"]?.boolValue ?? false))
        }
        return tokens
    }

    /// The ids around a single sequence: TemplateProcessing's `single`
    /// template or BertProcessing's `cls`/`sep`.
    private static func postProcessor(_ node: JSONValue?, vocabulary: [String: Int], added: [AddedToken], path: String) throws(TokenizerError) -> ([Int], [Int]) {
        func id(of token: String) throws(TokenizerError) -> Int {
            if let found = added.first(where: { $0.content == token }) { return found.id }
            if let found = vocabulary[token] { return found }
            throw TokenizerError(.invalidValue, "\(path): post_processor uses \(token), which is not a token")
        }
        guard let node else { return ([], []) }
        switch node["type"]?.stringValue {
        case "BertProcessing":
            guard let cls = node["cls"]?.arrayValue?.last?.intValue, let sep = node["sep"]?.arrayValue?.last?.intValue else {
                throw TokenizerError(.missingField, "\(path): BertProcessing needs cls and sep")
            }
            return ([cls], [sep])
        case "TemplateProcessing":
            guard let single = node["single"]?.arrayValue else { throw TokenizerError(.missingField, "\(path): TemplateProcessing has no single template") }
            var prefix: [Int] = [], suffix: [Int] = []
            var seenSequence = false
            for piece in single {
                if piece["Sequence"] != nil {
                    guard !seenSequence else { throw TokenizerError(.unsupported, "\(path): a single template with two sequences") }
                    seenSequence = true
                } else if let special = piece["SpecialToken"]?["id"]?.stringValue {
                    let resolved: [Int]
                    if let ids = node["special_tokens"]?[special]?["ids"]?.arrayValue?.compactMap(\.intValue) {
                        resolved = ids
                    } else {
                        resolved = [try id(of: special)]
                    }
                    if seenSequence { suffix += resolved } else { prefix += resolved }
                } else {
                    throw TokenizerError(.invalidValue, "\(path): unknown piece in the single template")
                }
            }
            return (prefix, suffix)
        default:
            throw TokenizerError(.unsupported, "\(path): post_processor \(node["type"]?.stringValue ?? "?") is not supported (TemplateProcessing and BertProcessing are)")
        }
    }
}
