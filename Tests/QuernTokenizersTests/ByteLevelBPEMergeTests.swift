import Foundation
import QuernFormats
import QuernTensor
import QuernTestSupport
import Testing
@testable import QuernTokenizers

/// The heap-based merge loop against the straightforward one it replaced
/// (rescan every pair after each merge, lowest rank first, leftmost on
/// ties), on random and adversarial words; and a guard against quadratic
/// time on one very long word.
@Suite struct ByteLevelBPEMergeTests {
    /// The straightforward byte-level BPE word encoder: O(n²) per word.
    struct ReferenceEncoder {
        let ranks: [String: Int]
        let ids: [String: Int]

        init(tokens: [String], merges: [String]) {
            var ranks: [String: Int] = [:]
            for (rank, merge) in merges.enumerated() where ranks[merge] == nil { ranks[merge] = rank }
            var ids: [String: Int] = [:]
            for (id, token) in tokens.enumerated() where ids[token] == nil { ids[token] = id }
            self.ranks = ranks
            self.ids = ids
        }

        func encode(_ word: String) -> [Int] {
            var symbols = Array(word.utf8).map { ByteMapping.symbol(for: $0) }
            while symbols.count > 1 {
                var bestRank = Int.max, bestIndex = -1
                for i in 0..<symbols.count - 1 {
                    if let rank = ranks[symbols[i] + " " + symbols[i + 1]], rank < bestRank {
                        bestRank = rank
                        bestIndex = i
                    }
                }
                if bestIndex < 0 { break }
                symbols[bestIndex] += symbols[bestIndex + 1]
                symbols.remove(at: bestIndex + 1)
            }
            return symbols.flatMap { symbol in
                ids[symbol].map { [$0] } ?? symbol.unicodeScalars.compactMap { ids[String($0)] }
            }
        }
    }

    /// A small random merge list over a few letters, with repeated merges,
    /// merged symbols missing from the vocabulary (the per-byte fallback)
    /// and ties everywhere in words of repeated letters.
    static func syntheticVocabulary(seed: UInt64) -> (tokens: [String], merges: [String]) {
        var random = SeededGenerator(seed: seed)
        var symbols = ["a", "b", "c", " ", "ä"].map { letter in String(letter.utf8.map { Character(ByteMapping.symbol(for: $0)) }) }
        // Multi-byte letters start as their byte symbols; merge those first.
        var merges: [String] = []
        let umlaut = Array("ä".utf8).map { ByteMapping.symbol(for: $0) }
        merges.append(umlaut.joined(separator: " "))
        symbols.append(umlaut.joined())
        for _ in 0..<300 {
            let left = symbols.randomElement(using: &random)!, right = symbols.randomElement(using: &random)!
            merges.append(left + " " + right)
            if left.count + right.count <= 12 { symbols.append(left + right) }
        }
        var tokens = (0..<256).map { ByteMapping.symbol(for: UInt8($0)) }
        tokens += Set(symbols).sorted().filter { _ in Int.random(in: 0..<10, using: &random) != 0 }
        return (tokens, merges)
    }

    static func words(seed: UInt64, alphabet: [String], count: Int, maxLength: Int) -> [String] {
        var random = SeededGenerator(seed: seed)
        return (0..<count).map { _ in
            (0..<Int.random(in: 1...maxLength, using: &random)).map { _ in alphabet.randomElement(using: &random)! }.joined()
        }
    }

    @Test func heapMergeEqualsTheReferenceOnASyntheticVocabulary() throws {
        for seed in UInt64(1)...5 {
            let (tokens, merges) = Self.syntheticVocabulary(seed: seed)
            let tokenizer = try ByteLevelBPE(tokens: tokens, kinds: tokens.map { _ in .normal }, merges: merges, pretokenizer: .gpt2)
            let reference = ReferenceEncoder(tokens: tokens, merges: merges)
            var words = Self.words(seed: seed, alphabet: ["a", "b", "c", " ", "ä", "d"], count: 300, maxLength: 40)
            words += ["a", "aa", "aaa", String(repeating: "a", count: 257), String(repeating: "ab", count: 100), String(repeating: "ä", count: 99)]
            for word in words {
                #expect(tokenizer.encodeWord(word) == reference.encode(word), "seed \(seed): \(String(reflecting: word))")
            }
        }
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: TestPaths.smolLM2)))
    func heapMergeEqualsTheReferenceOnSmolLM2() throws {
        let gguf = try GGUFFile(path: TestPaths.smolLM2)
        let tokenizer = try ByteLevelBPE(gguf: gguf)
        let reference = ReferenceEncoder(tokens: try gguf.strings("tokenizer.ggml.tokens"), merges: try gguf.strings("tokenizer.ggml.merges"))
        let cjk = (0..<200).map { String(Character(Unicode.Scalar(0x4E00 + $0 * 37)!)) }
        var words = Self.words(seed: 7, alphabet: ["a", "e", "t", "th", "in", "ing", " ", "é", "ß", "🙂", "\n"] + cjk.prefix(20), count: 300, maxLength: 60)
        words += Self.words(seed: 8, alphabet: cjk, count: 50, maxLength: 100)
        for character in ["a", "e", " ", "\n", "-", "=", "你", "é", "🙂"] {
            for length in [1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 63, 64, 65, 1000] {
                words.append(String(repeating: character, count: length))
            }
        }
        words += ["abababababababababab", "aaaaabbbbbaaaaabbbbb", " the the the the", "ĠĠĠĠ", "\u{0}\u{1}\u{7F}\u{FF}"]
        for word in words {
            #expect(tokenizer.encodeWord(word) == reference.encode(word), "\(String(reflecting: word.prefix(80)))")
        }
    }

    /// 100,000 characters in one word: milliseconds with the heap, minutes
    /// with a quadratic loop. The bound is loose on purpose (shared
    /// machines, debug builds); it catches a quadratic regression.
    @Test func aHundredThousandCharacterWordIsFast() throws {
        var tokenizers: [ByteLevelBPE] = []
        let (tokens, merges) = Self.syntheticVocabulary(seed: 3)
        tokenizers.append(try ByteLevelBPE(tokens: tokens, kinds: tokens.map { _ in .normal }, merges: merges, pretokenizer: .gpt2))
        if FileManager.default.fileExists(atPath: TestPaths.smolLM2) {
            tokenizers.append(try ByteLevelBPE(gguf: GGUFFile(path: TestPaths.smolLM2)))
        }
        let words = [String(repeating: "a", count: 100_000), String(repeating: "ab", count: 50_000),
                     String((0..<100_000).map { Character(Unicode.Scalar(0x4E00 + ($0 * 7919) % 20_000)!) })]
        for tokenizer in tokenizers {
            for word in words {
                let clock = ContinuousClock()
                var ids: [Int] = []
                let elapsed = clock.measure { ids = tokenizer.encode(word, parseSpecial: false) }
                #expect(!ids.isEmpty)
                #expect(elapsed < .seconds(5), "\(word.unicodeScalars.first!) × \(word.unicodeScalars.count): \(elapsed)")
            }
            // A word that long is not kept in the per-word cache.
            let cached = tokenizer.cachedWordCount
            _ = tokenizer.encode(String(repeating: "b", count: 10_000), parseSpecial: false)
            #expect(tokenizer.cachedWordCount == cached)
        }
    }
}
