/// What to do with a text longer than one model input.
public enum LongTextHandling: Sendable, Equatable {
    /// Cover the whole text with consecutive windows (Quern's default).
    case windows
    /// Keep only what fits in one model input, as sentence-transformers and
    /// Hugging Face's `truncation=True` do: the first `maxLength − specials`
    /// word pieces. The rest of the text never reaches the model.
    case truncate
}

/// A text cut to a model's maximum sequence length.
///
/// Sentence-transformers silently truncates a text to `max_seq_length`
/// tokens (special tokens included). Quern never drops text silently: by
/// default the word pieces are cut into consecutive, non-overlapping windows
/// of `maxLength − specials` pieces, each wrapped in `[CLS] … [SEP]`. The
/// first window is exactly what the reference embeds, and asking for
/// `.truncate` keeps only that window. Either way `pieceCount` counts the
/// whole text, so callers can report what was windowed or cut.
public struct WindowedText: Sendable, Equatable {
    public struct Window: Sendable, Equatable {
        /// Model input, special tokens included.
        public var ids: [Int]
        /// Which of the text's word pieces this window holds.
        public var pieces: Range<Int>
    }

    /// Word pieces of the whole text, special tokens excluded.
    public var pieceCount: Int
    public var windows: [Window]

    /// More than one window: a single model input would have cut the text.
    public var exceedsMaximumLength: Bool { windows.count > 1 }

    /// Word pieces the windows hold; fewer than `pieceCount` when the text was truncated.
    public var embeddedPieceCount: Int { windows.last?.pieces.upperBound ?? 0 }

    /// Part of the text is in no window (only with `.truncate`).
    public var isTruncated: Bool { embeddedPieceCount < pieceCount }
}

extension WordPieceTokenizer {
    /// Tokenizes `text` into windows of at most `maxLength` ids each: all the
    /// windows the text needs, or with `.truncate` only the first. An empty
    /// text gives one window holding only the special tokens.
    public func windows(_ text: String, maxLength: Int, longText: LongTextHandling = .windows) throws(TokenizerError) -> WindowedText {
        let perWindow = maxLength - specialTokensPerSequence
        guard perWindow > 0 else {
            throw TokenizerError(.invalidValue, "a maximum length of \(maxLength) leaves no room beside \(specialTokensPerSequence) special tokens")
        }
        let pieces = encode(text, parseSpecial: true)
        let coveredPieces = longText == .truncate ? min(pieces.count, perWindow) : pieces.count
        var windows: [WindowedText.Window] = []
        var start = 0
        repeat {
            let end = min(coveredPieces, start + perWindow)
            windows.append(WindowedText.Window(ids: addingSpecialTokens(Array(pieces[start..<end])), pieces: start..<end))
            start = end
        } while start < coveredPieces
        return WindowedText(pieceCount: pieces.count, windows: windows)
    }
}

/// Sequences of different lengths as one rectangular batch: right-padded
/// with the padding id, with an attention mask (1 real, 0 padding) and
/// token-type ids (0: a single sequence), flattened row by row.
public struct PaddedBatch: Sendable, Equatable {
    public let count: Int
    public let width: Int
    public let ids: [Int]
    public let attentionMask: [Int]
    public let tokenTypeIDs: [Int]
    public let lengths: [Int]

    public init(_ sequences: [[Int]], paddingID: Int) {
        count = sequences.count
        width = sequences.map(\.count).max() ?? 0
        var ids = [Int](repeating: paddingID, count: count * width)
        var mask = [Int](repeating: 0, count: count * width)
        for (row, sequence) in sequences.enumerated() {
            for (column, id) in sequence.enumerated() {
                ids[row * width + column] = id
                mask[row * width + column] = 1
            }
        }
        self.ids = ids
        attentionMask = mask
        tokenTypeIDs = [Int](repeating: 0, count: count * width)
        lengths = sequences.map(\.count)
    }
}
