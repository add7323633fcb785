/// BERT's tokenizer, stage by stage as tokenizer.json describes it: added
/// tokens matched in the raw text → `BertNormalizer` → `BertPreTokenizer` →
/// `WordPieceModel`, then the post-processor's `[CLS] … [SEP]`.
public struct WordPieceTokenizer: Tokenizer {
    public let normalizer: BertNormalizer?
    public let model: WordPieceModel
    public let addedTokens: [AddedToken]
    /// Ids the post-processor puts before and after a single sequence.
    public let prefixIDs: [Int]
    public let suffixIDs: [Int]
    public let paddingID: Int
    public let vocabularySize: Int
    private let splitter: SpecialTokenSplitter
    private let tokenForID: [Int: String]
    private let specialIDs: Set<Int>

    public init(normalizer: BertNormalizer?, model: WordPieceModel, addedTokens: [AddedToken], prefixIDs: [Int], suffixIDs: [Int], paddingID: Int) {
        self.normalizer = normalizer
        self.model = model
        self.addedTokens = addedTokens
        self.prefixIDs = prefixIDs
        self.suffixIDs = suffixIDs
        self.paddingID = paddingID
        splitter = SpecialTokenSplitter(addedTokens)
        var table: [Int: String] = [:]
        for (token, id) in model.vocabulary { table[id] = token }
        for token in addedTokens { table[token.id] = token.content }
        tokenForID = table
        specialIDs = Set(addedTokens.filter(\.special).map(\.id))
        vocabularySize = (table.keys.max() ?? -1) + 1
    }

    /// Special tokens the post-processor adds to one sequence.
    public var specialTokensPerSequence: Int { prefixIDs.count + suffixIDs.count }

    /// The word-piece ids of `text`, without `[CLS]`/`[SEP]`.
    public func encode(_ text: String, parseSpecial: Bool = true) -> [Int] {
        var ids: [Int] = []
        let segments = parseSpecial ? splitter.split(text) : [.text(Substring(text))]
        for segment in segments {
            switch segment {
            case let .token(id):
                ids.append(id)
            case let .text(stretch):
                let scalars = normalizer?.normalize(stretch) ?? Array(stretch.unicodeScalars)
                for word in BertPreTokenizer.split(scalars) {
                    model.tokenize(scalars[word], into: &ids)
                }
            }
        }
        return ids
    }

    /// `[CLS] ids [SEP]` (whatever the post-processor declares).
    public func addingSpecialTokens(_ ids: [Int]) -> [Int] { prefixIDs + ids + suffixIDs }

    /// The text of `ids`, special tokens skipped, `##` pieces joined to the
    /// piece before and the reference decoder's spacing clean-up applied.
    public func decode(_ ids: [Int]) -> String {
        var text = ""
        var first = true
        for id in ids where !specialIDs.contains(id) {
            let token = tokenForID[id] ?? "[UNK]"
            if !first && token.hasPrefix(model.continuingPrefix) {
                text += token.dropFirst(model.continuingPrefix.count)
            } else {
                if !first { text += " " }
                text += token
            }
            first = false
        }
        for (dirty, clean) in Self.cleanup { text = text.replacing(dirty, with: clean) }
        return text
    }

    private static let cleanup: [(String, String)] = [
        (" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
        (" 'm", "'m"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re"),
    ]

    /// The token string of an id (for dumps and tests).
    public func token(for id: Int) -> String? { tokenForID[id] }
}
