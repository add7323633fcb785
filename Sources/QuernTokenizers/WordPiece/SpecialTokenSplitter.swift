/// A token from tokenizer.json's `added_tokens` that is matched in the raw
/// text before normalisation, like `[CLS]` typed by a user: the reference
/// tokenizer turns such text into the special token, and so do we.
public struct AddedToken: Sendable, Equatable {
    public var content: String
    public var id: Int
    public var special: Bool

    public init(content: String, id: Int, special: Bool) {
        self.content = content
        self.id = id
        self.special = special
    }
}

/// Cuts text into plain stretches and added tokens, taking at each position
/// the longest token that starts there (leftmost-longest, as the reference's
/// Aho–Corasick matcher does).
struct SpecialTokenSplitter: Sendable {
    enum Segment: Equatable {
        case text(Substring)
        case token(Int)
    }

    /// Longest first, so the first match at a position is the longest.
    private let tokens: [(bytes: [UInt8], id: Int)]
    private let firstBytes: Set<UInt8>

    init(_ tokens: [AddedToken]) {
        self.tokens = tokens.filter { !$0.content.isEmpty }
            .map { (Array($0.content.utf8), $0.id) }
            .sorted { $0.bytes.count > $1.bytes.count }
        firstBytes = Set(self.tokens.map { $0.bytes[0] })
    }

    func split(_ text: String) -> [Segment] {
        guard !tokens.isEmpty else { return [.text(Substring(text))] }
        let utf8 = Array(text.utf8)
        var segments: [Segment] = []
        var plainStart = 0
        var position = 0
        while position < utf8.count {
            if firstBytes.contains(utf8[position]), let (id, length) = match(utf8, at: position) {
                if plainStart < position { segments.append(.text(substring(text, utf8Range: plainStart..<position))) }
                segments.append(.token(id))
                position += length
                plainStart = position
            } else {
                position += 1
            }
        }
        if plainStart < utf8.count { segments.append(.text(substring(text, utf8Range: plainStart..<utf8.count))) }
        return segments
    }

    private func match(_ utf8: [UInt8], at position: Int) -> (id: Int, length: Int)? {
        for token in tokens where token.bytes.count <= utf8.count - position {
            var equal = true
            for i in 0..<token.bytes.count where utf8[position + i] != token.bytes[i] {
                equal = false
                break
            }
            if equal { return (token.id, token.bytes.count) }
        }
        return nil
    }

    /// Token contents are whole UTF-8 sequences, so match boundaries are
    /// always character boundaries of the text.
    private func substring(_ text: String, utf8Range: Range<Int>) -> Substring {
        let start = text.utf8.index(text.utf8.startIndex, offsetBy: utf8Range.lowerBound)
        let end = text.utf8.index(start, offsetBy: utf8Range.count)
        return text[start..<end]
    }
}
