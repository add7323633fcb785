@testable import QuernModels
import Testing

/// The pieces of word alignment on hand-made inputs, against what
/// CTranslate2's C++ and faster-whisper's Python do with them.
@Suite struct WhisperAlignmentStepTests {
    typealias T = WhisperTranscriber

    @Test func dtwMatchesCTranslate2sPaths() {
        // Two rows over four frames: row 0 is strong in frames 0–1, row 1 in
        // 2–3. (Paths as CTranslate2's negative_dtw gives them.)
        let x: [Float] = [1, 1, 0, 0,
                          0, 0, 1, 1]
        let path = T.negativeDTW(x, rows: 2, columns: 4)
        #expect(path.map(\.text) == [0, 0, 1, 1, 1] && path.map(\.time) == [0, 1, 1, 2, 3])
        // All equal: a diagonal or vertical step only when strictly cheaper.
        let flat = T.negativeDTW([Float](repeating: 0, count: 6), rows: 2, columns: 3)
        #expect(flat.map(\.text) == [0, 1, 1, 1] && flat.map(\.time) == [0, 0, 1, 2])
    }

    @Test func medianFilterReflectsAtTheEdges() {
        // width 3: the edge reads its neighbour on both sides (reflection without repeating the edge).
        let filtered = T.medianFilterRows([5, 1, 9, 2], rows: 1, columns: 4, width: 3)
        #expect(filtered == [1, 5, 2, 9])
        // A row no longer than half the width is left alone.
        #expect(T.medianFilterRows([3, 1, 2], rows: 1, columns: 3, width: 7) == [3, 1, 2])
    }

    @Test func standardisingIsOverTheRowsOfEachColumn() {
        var values: [Float] = [1, 10,
                               3, 10]
        T.standardiseColumns(&values, rows: 2, columns: 2)
        #expect(values == [-1, 0, 1, 0])
    }

    @Test func punctuationMergesAsFasterWhisperDoes() {
        func timing(_ word: String, _ tokens: [Int]) -> WhisperWordTiming {
            WhisperWordTiming(word: word, tokens: tokens, start: 0, end: 0, probability: 1)
        }
        var alignment = [timing(" \"", [1]), timing("Hello", [2]), timing(",", [3]), timing(" world", [4]), timing(".", [5])]
        T.mergePunctuations(&alignment, prepended: T.prependPunctuations, appended: T.appendPunctuations)
        #expect(alignment.map(\.word) == ["", " \"Hello,", "", " world.", ""])
        #expect(alignment[1].tokens == [1, 2, 3] && alignment[3].tokens == [4, 5] && alignment[0].tokens.isEmpty)
    }

    @Test func pythonStringTestsAreSubstringTests() {
        #expect(T.pythonContains(T.asciiPunctuation, ""))
        #expect(T.pythonContains(T.asciiPunctuation, "()"))
        #expect(!T.pythonContains(T.asciiPunctuation, ".,"))
        #expect(T.pythonContains(T.appendPunctuations, "'."))
        #expect(T.median([]) == 0 && T.median([3, 1, 2]) == 2 && T.median([4, 1, 3, 2]) == 2.5)
        #expect(T.roundedToHundredths(12.339999999999998) == 12.34)
    }
}
