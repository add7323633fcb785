import Foundation

/// A word of a transcript: its text as the segment spells it (leading space
/// and attached punctuation included), its start and end in seconds from
/// the start of the file (to the hundredth, as faster-whisper gives them),
/// and the mean probability of its tokens.
public struct WhisperWord: Sendable, Equatable {
    public var word: String
    public var start: Double
    public var end: Double
    public var probability: Double

    public init(word: String, start: Double, end: Double, probability: Double) {
        self.word = word
        self.start = start
        self.end = end
        self.probability = probability
    }
}

/// One word of a window's alignment, times relative to the window
/// (faster-whisper's `find_alignment` dicts).
struct WhisperWordTiming {
    var word: String
    var tokens: [Int]
    var start: Double
    var end: Double
    var probability: Double
}

/// A segment of a window while its words are timed (faster-whisper's
/// subsegment dicts): word timing may move its start and end.
struct WhisperTimedPiece {
    var start: Double
    var end: Double
    var tokens: [Int]
    var words: [WhisperWord] = []
}

/// Word timestamps exactly as faster-whisper 1.2.1 computes them with
/// `word_timestamps=True` (its `add_word_timestamps`, `find_alignment`,
/// `merge_punctuations` and the tokenizer's `split_to_word_tokens`), on
/// CTranslate2's alignment (`alignTokens`). The Python string tests they
/// make (`x in "…"`, a substring test) are kept as they are.
extension WhisperTranscriber {
    /// faster-whisper's defaults.
    static let prependPunctuations = "\"'“¿([{-"
    static let appendPunctuations = "\"'.。,，!！?？:：”)]}、"
    static let sentenceEndMarks = ".。!！?？"
    /// Python's `string.punctuation`.
    static let asciiPunctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
    /// Encoder frames (timestamp steps) per second.
    static let alignmentStepsPerSecond = 50.0
    static let framesPerSecond = 100.0

    /// Times the words of one window's pieces (all of its segments, empty
    /// ones included) and adjusts the pieces' start and end as faster-whisper
    /// does: long words after a pause or at a sentence end are clamped to
    /// twice the median word duration, and a segment's start and end follow
    /// its first and last word unless those stray more than 0.5 s.
    /// `seek`: the window's first mel frame; `frames`: the mel frames of
    /// audio in it. Returns the last speech time for the next window.
    @discardableResult
    func addWordTimestamps(to pieces: inout [WhisperTimedPiece], seek: Int, frames: Int, session: WhisperDecoderSession,
                           lastSpeechTimestamp: Double) throws(ModelError) -> Double {
        guard !pieces.isEmpty else { return lastSpeechTimestamp }
        let tokensPerPiece = pieces.map { $0.tokens.filter { $0 < specials.endOfText } }
        let textTokens = tokensPerPiece.flatMap { $0 }
        var alignment = try findAlignment(textTokens, session: session, frames: frames)

        // Durations of the words before punctuation is merged.
        let durations = alignment.map { $0.end - $0.start }.filter { $0 != 0 }
        let medianDuration = min(0.7, Self.median(durations))
        let maxDuration = medianDuration * 2
        if !durations.isEmpty {
            // Truncate long words at sentence boundaries.
            for i in alignment.indices.dropFirst() where alignment[i].end - alignment[i].start > maxDuration {
                if Self.pythonContains(Self.sentenceEndMarks, alignment[i].word) {
                    alignment[i].end = alignment[i].start + maxDuration
                } else if Self.pythonContains(Self.sentenceEndMarks, alignment[i - 1].word) {
                    alignment[i].start = alignment[i].end - maxDuration
                }
            }
        }
        Self.mergePunctuations(&alignment, prepended: Self.prependPunctuations, appended: Self.appendPunctuations)

        var lastSpeech = lastSpeechTimestamp
        let timeOffset = Double(seek) / Self.framesPerSecond
        var wordIndex = 0
        for pieceIndex in pieces.indices {
            var savedTokens = 0
            var words: [WhisperWord] = []
            while wordIndex < alignment.count && savedTokens < tokensPerPiece[pieceIndex].count {
                let timing = alignment[wordIndex]
                if !timing.word.isEmpty {
                    words.append(WhisperWord(word: timing.word, start: Self.roundedToHundredths(timeOffset + timing.start),
                                             end: Self.roundedToHundredths(timeOffset + timing.end), probability: timing.probability))
                }
                savedTokens += timing.tokens.count
                wordIndex += 1
            }
            if !words.isEmpty {
                // The first and second word after a pause are not longer
                // than twice the median word duration.
                if words[0].end - lastSpeech > medianDuration * 4
                    && (words[0].end - words[0].start > maxDuration || (words.count > 1 && words[1].end - words[0].start > maxDuration * 2)) {
                    if words.count > 1 && words[1].end - words[1].start > maxDuration {
                        let boundary = max(words[1].end / 2, words[1].end - maxDuration)
                        words[0].end = boundary
                        words[1].start = boundary
                    }
                    words[0].start = max(0, words[0].end - maxDuration)
                }
                // Prefer the segment's start when the first word is too long.
                if pieces[pieceIndex].start < words[0].end && pieces[pieceIndex].start - 0.5 > words[0].start {
                    words[0].start = max(0, min(words[0].end - medianDuration, pieces[pieceIndex].start))
                } else {
                    pieces[pieceIndex].start = words[0].start
                }
                // Prefer the segment's end when the last word is too long.
                let last = words.count - 1
                if pieces[pieceIndex].end > words[last].start && pieces[pieceIndex].end + 0.5 < words[last].end {
                    words[last].end = max(words[last].start + medianDuration, pieces[pieceIndex].end)
                } else {
                    pieces[pieceIndex].end = words[last].end
                }
                lastSpeech = pieces[pieceIndex].end
            }
            pieces[pieceIndex].words = words
        }
        return lastSpeech
    }

    /// faster-whisper's `get_end`: the end of the last word of the last
    /// piece that has words, else the last piece's end.
    static func lastEnd(of pieces: [WhisperTimedPiece]) -> Double? {
        for piece in pieces.reversed() { if let word = piece.words.last { return word.end } }
        return pieces.last?.end
    }

    /// faster-whisper's `find_alignment`: the words of `textTokens` (split
    /// at spaces and punctuation), each starting at the frame where the
    /// alignment path enters its first token and ending where it enters the
    /// next word's, with the mean probability of its tokens.
    func findAlignment(_ textTokens: [Int], session: WhisperDecoderSession, frames: Int) throws(ModelError) -> [WhisperWordTiming] {
        guard !textTokens.isEmpty else { return [] }
        let aligned = try alignTokens(textTokens, session: session, frames: frames)
        let (words, wordTokens) = splitToWordTokens(textTokens + [specials.endOfText])
        guard wordTokens.count > 1, !aligned.path.isEmpty else { return [] }
        var boundaries = [0]
        for tokens in wordTokens.dropLast() { boundaries.append(boundaries[boundaries.count - 1] + tokens.count) }
        // The time at which the path first reaches each text row.
        var jumpTimes: [Double] = []
        for (index, step) in aligned.path.enumerated() where index == 0 || step.text != aligned.path[index - 1].text {
            jumpTimes.append(Double(step.time) / Self.alignmentStepsPerSecond)
        }
        guard let lastBoundary = boundaries.last, lastBoundary < jumpTimes.count else { return [] }
        var timings: [WhisperWordTiming] = []
        for index in 0..<(boundaries.count - 1) {
            let from = boundaries[index], to = boundaries[index + 1]
            let probabilities = aligned.textTokenProbabilities[from..<min(to, aligned.textTokenProbabilities.count)]
            let probability = probabilities.isEmpty ? Double.nan : probabilities.reduce(0.0) { $0 + Double($1) } / Double(probabilities.count)
            timings.append(WhisperWordTiming(word: words[index], tokens: wordTokens[index], start: jumpTimes[from], end: jumpTimes[to],
                                             probability: probability))
        }
        return timings
    }

    /// The tokenizer's `split_tokens_on_spaces` (English): pieces that
    /// decode to whole characters, joined into words that start at a space,
    /// a control token or punctuation.
    func splitToWordTokens(_ tokens: [Int]) -> (words: [String], tokens: [[Int]]) {
        let (subwords, subwordTokens) = splitTokensOnUnicode(tokens)
        var words: [String] = [], wordTokens: [[Int]] = []
        for (subword, pieceTokens) in zip(subwords, subwordTokens) {
            let special = (pieceTokens.first ?? 0) >= specials.endOfText
            let withSpace = subword.hasPrefix(" ")
            let punctuation = Self.pythonContains(Self.asciiPunctuation, Self.pythonStrip(subword))
            if special || withSpace || punctuation || words.isEmpty {
                words.append(subword)
                wordTokens.append(pieceTokens)
            } else {
                words[words.count - 1] += subword
                wordTokens[wordTokens.count - 1] += pieceTokens
            }
        }
        return (words, wordTokens)
    }

    /// The tokenizer's `split_tokens_on_unicode`: tokens grouped until they
    /// decode without a replacement character that the whole text does not
    /// also have at that place.
    func splitTokensOnUnicode(_ tokens: [Int]) -> (words: [String], tokens: [[Int]]) {
        let replacement: Unicode.Scalar = "\u{FFFD}"
        let full = Array(text(of: tokens).unicodeScalars)
        var words: [String] = [], wordTokens: [[Int]] = []
        var current: [Int] = []
        var offset = 0
        for token in tokens {
            current.append(token)
            let decoded = text(of: current)
            let scalars = Array(decoded.unicodeScalars)
            let replacementIndex = scalars.firstIndex(of: replacement).map { $0 + offset }
            if replacementIndex == nil || (replacementIndex! < full.count && full[replacementIndex!] == replacement) {
                words.append(decoded)
                wordTokens.append(current)
                current = []
                offset += scalars.count
            }
        }
        return (words, wordTokens)
    }

    /// faster-whisper's `merge_punctuations`: opening punctuation joins the
    /// next word, closing punctuation the previous one (emptied words stay,
    /// with no text and no tokens).
    static func mergePunctuations(_ alignment: inout [WhisperWordTiming], prepended: String, appended: String) {
        var i = alignment.count - 2, j = alignment.count - 1
        while i >= 0 {
            let previous = alignment[i]
            if previous.word.hasPrefix(" ") && pythonContains(prepended, pythonStrip(previous.word)) {
                alignment[j].word = previous.word + alignment[j].word
                alignment[j].tokens = previous.tokens + alignment[j].tokens
                alignment[i].word = ""
                alignment[i].tokens = []
            } else {
                j = i
            }
            i -= 1
        }
        i = 0
        j = 1
        while j < alignment.count {
            let following = alignment[j]
            if !alignment[i].word.hasSuffix(" ") && pythonContains(appended, following.word) {
                alignment[i].word += following.word
                alignment[i].tokens += following.tokens
                alignment[j].word = ""
                alignment[j].tokens = []
            } else {
                i = j
            }
            j += 1
        }
    }

    /// Python's `needle in haystack` for strings: a substring test over
    /// code points, true for the empty needle.
    static func pythonContains(_ haystack: String, _ needle: String) -> Bool {
        let h = Array(haystack.unicodeScalars), n = Array(needle.unicodeScalars)
        guard !n.isEmpty else { return true }
        guard n.count <= h.count else { return false }
        for start in 0...(h.count - n.count) where Array(h[start..<start + n.count]) == n { return true }
        return false
    }

    /// Python's `str.strip()`: leading and trailing whitespace removed.
    static func pythonStrip(_ text: String) -> String {
        text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// NumPy's median (the mean of the middle two of an even count); 0 for none.
    static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted(), middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    /// Python's `round(x, 2)` for the times faster-whisper reports.
    static func roundedToHundredths(_ value: Double) -> Double {
        (value * 100).rounded(.toNearestOrEven) / 100
    }
}
