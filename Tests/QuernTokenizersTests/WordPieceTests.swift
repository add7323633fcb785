import Foundation
import QuernFormats
import QuernTensor
import Testing
@testable import QuernTokenizers

/// WordPiece stage by stage on a small hand-made vocabulary, plus loading.
@Suite struct WordPieceTests {
    static let vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##aff", "##able", "hello", "world", "!", ",",
                             "cafe", "日", "本", "a", "##b", "##c", "abc", "σ", "##ι", "$", "5"]
    static func tokenizer(maxChars: Int = 100) throws -> WordPieceTokenizer {
        let ids = Dictionary(uniqueKeysWithValues: vocabulary.enumerated().map { ($1, $0) })
        let model = try WordPieceModel(vocabulary: ids, unknownToken: "[UNK]", maximumCharactersPerWord: maxChars)
        let specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"].map { AddedToken(content: $0, id: ids[$0]!, special: true) }
        return WordPieceTokenizer(normalizer: BertNormalizer(), model: model, addedTokens: specials, prefixIDs: [2], suffixIDs: [3], paddingID: 0)
    }

    func normalized(_ text: String, _ normalizer: BertNormalizer = BertNormalizer()) -> String {
        String(String.UnicodeScalarView(normalizer.normalize(Substring(text))))
    }

    @Test func normalizerStages() {
        #expect(normalized("Héllo\tWORLD\u{0}\u{FFFD}\u{7}") == "hello world")
        #expect(normalized("日本語") == " 日  本  語 ")        // ideographs spaced out
        #expect(normalized("ひらがな") == "ひらかな")          // kana are not spaced; the voicing mark is stripped
        #expect(normalized("ΣΊΣ") == "σισ")                  // char-by-char lowercase: no final ς
        #expect(normalized("İ") == "i")                      // NFD, mark stripped, then lowercased
        #expect(normalized("a\u{200B}b\u{00AD}c") == "abc")  // format characters removed
        #expect(normalized("a\u{1AC1}b") == "a\u{1AC1}b")    // a mark newer than the reference's tables stays
        let cased = BertNormalizer(lowercase: false)
        #expect(normalized("Café", cased) == "Café")         // strip_accents follows lowercase
        #expect(normalized("Café", BertNormalizer(stripAccents: true, lowercase: false)) == "Cafe")
    }

    @Test func preTokenizerSplitsWhitespaceAndPunctuation() {
        let scalars = Array("hi, you$5 a€b 😀!".unicodeScalars)
        let words = BertPreTokenizer.split(scalars).map { String(String.UnicodeScalarView(scalars[$0])) }
        #expect(words == ["hi", ",", "you", "$", "5", "a€b", "😀", "!"])
    }

    /// A 1 MB word is one [UNK] (max_input_chars_per_word), found without
    /// trying its prefixes; a megabyte of short words and accented text is
    /// linear too. Loose bounds: a guard against quadratic regressions.
    @Test func megabyteInputsTokenizeInLinearTime() throws {
        let tokenizer = try Self.tokenizer()
        let inputs = [String(repeating: "a", count: 1 << 20), String(repeating: "abc", count: 350_000),
                      String(repeating: "abc ", count: 262_144), String(repeating: "é", count: 1 << 19), String(repeating: "[CLS]", count: 200_000), String(repeating: "é ", count: 1 << 18)]
        let expectedCounts = [1, 1, 262_144, 1, 200_000, 1 << 18]
        for (input, expected) in zip(inputs, expectedCounts) {
            var ids: [Int] = []
            let elapsed = ContinuousClock().measure { ids = tokenizer.encode(input) }
            #expect(ids.count == expected, "\(input.prefix(8))…")
            #expect(elapsed < .seconds(5), "\(input.prefix(8))… took \(elapsed)")
        }
        #expect(tokenizer.encode(String(repeating: "a", count: 1 << 20)) == [1])
    }

    /// The normalizer decomposes long text in pieces; joined, they are the
    /// NFD of the whole, marks reordered across nothing they should not be.
    @Test func piecewiseDecompositionEqualsWholeDecomposition() {
        let pool = ["a", "e", " ", "é", "\u{301}", "\u{327}", "\u{323}", "ḗ", "ệ", "\u{F73}", "\u{F71}", "\u{F72}", "가", "Å", "ﬁ", "日"]
        var random = SeededGenerator(seed: 11)
        for length in [0, 1, 255, 256, 257, 600, 5000] {
            for _ in 0..<10 {
                let text = (0..<length).map { _ in pool.randomElement(using: &random)! }.joined()
                let whole = Array(text.decomposedStringWithCanonicalMapping.unicodeScalars)
                #expect(BertNormalizer.canonicallyDecomposed(Array(text.unicodeScalars)) == whole, "length \(length)")
            }
        }
    }

    @Test func wordPieceLongestMatchFirst() throws {
        let tokenizer = try Self.tokenizer()
        #expect(tokenizer.encode("unaffable") == [5, 6, 7])
        #expect(tokenizer.encode("abc") == [18])           // whole word beats a + ##b + ##c
        #expect(tokenizer.encode("abcb") == [18, 16])
        #expect(tokenizer.encode("unaffablex") == [1])     // one unmatched piece: the whole word is [UNK]
        #expect(tokenizer.encode("Hello, WORLD!") == [8, 11, 9, 10])
        #expect(try Self.tokenizer(maxChars: 8).encode("unaffable hello") == [1, 8])  // longer than 8 characters
        #expect(tokenizer.encode("") == [] && tokenizer.encode(" \n\t ") == [])
    }

    @Test func specialTokensTypedInTheText() throws {
        let tokenizer = try Self.tokenizer()
        #expect(tokenizer.encode("hello [CLS] world[SEP][MASK]") == [8, 2, 9, 3, 4])
        #expect(tokenizer.encode("[cls]") == [1, 1, 1])  // lowercase is not special: "[", "cls", "]" (unknown here)
        #expect(tokenizer.encode("[CLS]", parseSpecial: false) == [1, 1, 1])
        #expect(tokenizer.addingSpecialTokens(tokenizer.encode("hello")) == [2, 8, 3])
        #expect(tokenizer.decode([2, 5, 6, 7, 11, 8, 3]) == "unaffable, hello")
    }

    @Test func windowsAndPadding() throws {
        let tokenizer = try Self.tokenizer()
        let text = Array(repeating: "hello", count: 7).joined(separator: " ")
        let windows = try tokenizer.windows(text, maxLength: 5)
        #expect(windows.pieceCount == 7 && windows.exceedsMaximumLength)
        #expect(windows.windows.map(\.ids) == [[2, 8, 8, 8, 3], [2, 8, 8, 8, 3], [2, 8, 3]])
        #expect(windows.windows.map(\.pieces) == [0..<3, 3..<6, 6..<7])
        #expect(try tokenizer.windows("", maxLength: 5).windows.map(\.ids) == [[2, 3]])
        #expect(throws: TokenizerError.self) { try tokenizer.windows("x", maxLength: 2) }
        #expect(!windows.isTruncated && windows.embeddedPieceCount == 7)

        // Truncation keeps the first window and still counts the whole text.
        let truncated = try tokenizer.windows(text, maxLength: 5, longText: .truncate)
        #expect(truncated.windows.map(\.ids) == [[2, 8, 8, 8, 3]] && truncated.windows.map(\.pieces) == [0..<3])
        #expect(truncated.pieceCount == 7 && truncated.embeddedPieceCount == 3 && truncated.isTruncated && !truncated.exceedsMaximumLength)
        // A text that fits exactly is not truncated; one piece more is.
        #expect(try !tokenizer.windows("hello hello hello", maxLength: 5, longText: .truncate).isTruncated)
        #expect(try tokenizer.windows("hello hello hello hello", maxLength: 5, longText: .truncate).isTruncated)
        #expect(try tokenizer.windows("", maxLength: 5, longText: .truncate).windows.map(\.ids) == [[2, 3]])

        let batch = PaddedBatch([[2, 8, 3], [2, 3]], paddingID: 0)
        #expect(batch.width == 3 && batch.ids == [2, 8, 3, 2, 3, 0] && batch.attentionMask == [1, 1, 1, 1, 1, 0] && batch.lengths == [3, 2])
    }

    @Test func loadsVocabTxtWithConfiguration() throws {
        let folder = NSTemporaryDirectory() + "quern-wordpiece-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try (Self.vocabulary.joined(separator: "\n") + "\n").write(toFile: folder + "/vocab.txt", atomically: true, encoding: .utf8)
        try "{\"do_lower_case\": false}".write(toFile: folder + "/tokenizer_config.json", atomically: true, encoding: .utf8)
        let tokenizer = try WordPieceTokenizer.load(directory: folder)
        #expect(tokenizer.encode("hello Hello") == [8, 1])  // cased
        #expect(tokenizer.addingSpecialTokens([]) == [2, 3] && tokenizer.vocabularySize == Self.vocabulary.count)
    }

    @Test func refusesTokenizerJSONItCannotHonour() throws {
        let folder = NSTemporaryDirectory() + "quern-wordpiece-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/tokenizer.json"
        try "{\"model\": {\"type\": \"BPE\", \"vocab\": {}}}".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: TokenizerError.self) { try WordPieceTokenizer.load(tokenizerJSON: path) }
        try "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"[UNK]\": 0}}, \"normalizer\": {\"type\": \"NFKC\"}}".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: TokenizerError.self) { try WordPieceTokenizer.load(tokenizerJSON: path) }
        try "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"[UNK]\": 0}}".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: TokenizerError.self) { try WordPieceTokenizer.load(tokenizerJSON: path) }
    }
}
