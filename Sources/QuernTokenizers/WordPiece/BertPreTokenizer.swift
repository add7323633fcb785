/// BERT's pre-tokeniser (`BertPreTokenizer`): words are separated by
/// whitespace, which is dropped, and every punctuation character is a word
/// of its own. Other symbols (€, emoji) stay inside their word.
public enum BertPreTokenizer {
    /// The words of `scalars`, as index ranges into it.
    public static func split(_ scalars: [Unicode.Scalar]) -> [Range<Int>] {
        var words: [Range<Int>] = []
        var start: Int?
        for (index, scalar) in scalars.enumerated() {
            if BertCharacterClasses.isWhitespace(scalar) {
                if let begin = start { words.append(begin..<index) }
                start = nil
            } else if BertCharacterClasses.isPunctuation(scalar) {
                if let begin = start { words.append(begin..<index) }
                words.append(index..<index + 1)
                start = nil
            } else if start == nil {
                start = index
            }
        }
        if let begin = start { words.append(begin..<scalars.count) }
        return words
    }
}
