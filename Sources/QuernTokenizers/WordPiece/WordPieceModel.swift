/// The WordPiece model: each word becomes the longest vocabulary entry that
/// starts it, then the longest `##`-prefixed entry that continues it, and so
/// on. A word with any part that matches nothing — or longer than
/// `maximumCharactersPerWord` — becomes a single unknown token.
public struct WordPieceModel: Sendable {
    public let vocabulary: [String: Int]
    public let unknownID: Int
    public let continuingPrefix: String
    public let maximumCharactersPerWord: Int
    /// The longest entry, in Unicode scalars: no match can be longer.
    private let longestEntry: Int

    public init(vocabulary: [String: Int], unknownToken: String, continuingPrefix: String = "##", maximumCharactersPerWord: Int = 100) throws(TokenizerError) {
        guard let unknownID = vocabulary[unknownToken] else {
            throw TokenizerError(.invalidValue, "the unknown token \(unknownToken) is not in the vocabulary")
        }
        guard maximumCharactersPerWord > 0 else {
            throw TokenizerError(.invalidValue, "max_input_chars_per_word must be positive, got \(maximumCharactersPerWord)")
        }
        self.vocabulary = vocabulary
        self.unknownID = unknownID
        self.continuingPrefix = continuingPrefix
        self.maximumCharactersPerWord = maximumCharactersPerWord
        longestEntry = vocabulary.keys.reduce(0) { max($0, $1.unicodeScalars.count) }
    }

    /// Appends the ids of `word` (a slice of normalised scalars) to `ids`.
    public func tokenize(_ word: ArraySlice<Unicode.Scalar>, into ids: inout [Int]) {
        guard !word.isEmpty else { return }
        guard word.count <= maximumCharactersPerWord else {
            ids.append(unknownID)
            return
        }
        let firstPieceIndex = ids.count
        var start = word.startIndex
        while start < word.endIndex {
            var stop = min(word.endIndex, start + longestEntry)
            var match: Int?
            while stop > start {
                var candidate = String(String.UnicodeScalarView(word[start..<stop]))
                if start > word.startIndex { candidate = continuingPrefix + candidate }
                if let id = vocabulary[candidate] {
                    match = id
                    break
                }
                stop -= 1
            }
            guard let id = match else {
                ids.removeSubrange(firstPieceIndex...)
                ids.append(unknownID)
                return
            }
            ids.append(id)
            start = stop
        }
    }
}
