import Synchronization

/// Byte-level BPE (GPT-2, Llama 3, SmolLM2 …): text is split into words by
/// the model's pre-tokenizer rules, each word's UTF-8 bytes are mapped to
/// printable characters (GPT-2's `bytes_to_unicode`), and adjacent symbols
/// are merged by rank until no ranked pair is left.
public final class ByteLevelBPE: Tokenizer, @unchecked Sendable {
    /// How a token is used, as GGUF's `tokenizer.ggml.token_type` says.
    public enum TokenKind: Int, Sendable {
        case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }

    public let pretokenizer: PreTokenizerRules
    public let tokens: [String]
    public let kinds: [TokenKind]
    private let ids: [String: Int]
    private let mergeTable: MergeTable
    /// Special tokens matched verbatim in text, longest first.
    private let specials: [(text: String, id: Int, kind: TokenKind)]
    private let wordCache = Mutex<[String: [Int]]>([:])
    /// Words longer than this (in UTF-8 bytes) are not cached: a long word
    /// is rarely seen twice, and caching it would let one input hold
    /// megabytes of memory for the life of the daemon.
    static let longestCachedWordBytes = 64
    static let maximumCachedWords = 100_000

    /// The most text bytes one token stands for (special tokens' text
    /// included). Every token covers at most this many bytes, so a text of
    /// `b` bytes has at least `b / longestTokenBytes` tokens (rounded up):
    /// enough to refuse a text that cannot fit a context without tokenizing it.
    public let longestTokenBytes: Int

    public var vocabularySize: Int { tokens.count }

    /// - merges: "left right" pairs, highest priority first.
    public init(tokens: [String], kinds: [TokenKind], merges: [String], pretokenizer: PreTokenizerRules) throws(TokenizerError) {
        guard !tokens.isEmpty, kinds.count == tokens.count else {
            throw TokenizerError(.invalidValue, "vocabulary has \(tokens.count) tokens and \(kinds.count) token types")
        }
        var ids: [String: Int] = [:]
        ids.reserveCapacity(tokens.count)
        for (id, token) in tokens.enumerated() where ids[token] == nil { ids[token] = id }
        self.mergeTable = try MergeTable(merges: merges, ids: ids)
        self.tokens = tokens
        self.kinds = kinds
        self.ids = ids
        self.pretokenizer = pretokenizer
        self.specials = tokens.enumerated()
            .filter { [.control, .userDefined, .unknown].contains(kinds[$0.offset]) && !$0.element.isEmpty }
            .map { (text: $0.element, id: $0.offset, kind: kinds[$0.offset]) }
            .sorted { $0.text.utf8.count > $1.text.utf8.count }
        var longest = 1
        for (id, token) in tokens.enumerated() {
            let length = kinds[id] == .normal || kinds[id] == .byte ? ByteMapping.bytes(of: token).count : token.utf8.count
            longest = max(longest, length)
        }
        self.longestTokenBytes = longest
    }

    public func id(of token: String) -> Int? { ids[token] }

    /// The id of the special token (control, user-defined or unknown) whose
    /// text is exactly `text`: what `encode(text, parseSpecial: true)` would
    /// turn it into, or nil when the text is not one special token.
    public func specialTokenID(_ text: String) -> Int? {
        guard let id = ids[text] else { return nil }
        return [.control, .userDefined, .unknown].contains(kinds[id]) ? id : nil
    }

    /// A lower bound on the number of tokens `encode` gives for `byteCount`
    /// bytes of text (see `longestTokenBytes`).
    public func minimumTokenCount(byteCount: Int) -> Int {
        (byteCount + longestTokenBytes - 1) / longestTokenBytes
    }

    // MARK: Encoding

    public func encode(_ text: String, parseSpecial: Bool) -> [Int] {
        var result: [Int] = []
        for fragment in fragments(text, parseSpecial: parseSpecial) {
            switch fragment {
            case .special(let id): result.append(id)
            case .text(let raw):
                for word in pretokenizer.split(String(decoding: raw, as: UTF8.self)) { result += encodeWord(word) }
            }
        }
        return result
    }

    enum Fragment { case text([UInt8]), special(Int) }

    /// Splits text around special tokens written in it, comparing UTF-8
    /// bytes (not grapheme clusters). Control tokens count only when
    /// `parseSpecial`; user-defined ones always (as llama.cpp does).
    func fragments(_ text: String, parseSpecial: Bool) -> [Fragment] {
        var fragments: [Fragment] = [.text(Array(text.utf8))]
        for special in specials {
            if !parseSpecial && special.kind != .userDefined { continue }
            let pattern = Array(special.text.utf8)
            var next: [Fragment] = []
            for fragment in fragments {
                guard case .text(let raw) = fragment, raw.count >= pattern.count else {
                    next.append(fragment)
                    continue
                }
                var start = 0, i = 0
                while i + pattern.count <= raw.count {
                    if raw[i] == pattern[0] && raw[i..<i + pattern.count].elementsEqual(pattern) {
                        if i > start { next.append(.text(Array(raw[start..<i]))) }
                        next.append(.special(special.id))
                        i += pattern.count
                        start = i
                    } else {
                        i += 1
                    }
                }
                if start < raw.count { next.append(.text(Array(raw[start...]))) }
            }
            fragments = next
        }
        return fragments
    }

    func encodeWord(_ word: String) -> [Int] {
        let cacheable = word.utf8.count <= Self.longestCachedWordBytes
        if cacheable, let cached = wordCache.withLock({ $0[word] }) { return cached }
        var result: [Int] = []
        for symbol in mergeTable.merge(Array(word.utf8)) {
            let id = mergeTable.tokenIDs[Int(symbol)]
            if id >= 0 {
                result.append(id)
            } else {
                // Not in the vocabulary: fall back to one token per byte.
                for character in mergeTable.symbols[Int(symbol)].unicodeScalars {
                    if let id = ids[String(character)] { result.append(id) }
                }
            }
        }
        if cacheable {
            wordCache.withLock { cache in if cache.count < Self.maximumCachedWords { cache[word] = result } }
        }
        return result
    }

    /// Words in the per-word cache (for tests of its bound).
    var cachedWordCount: Int { wordCache.withLock { $0.count } }

    // MARK: Decoding

    /// The bytes of token `id` (control tokens give their text only when asked).
    public func bytes(of id: Int, includeSpecial: Bool = false) -> [UInt8] {
        guard id >= 0, id < tokens.count else { return [] }
        switch kinds[id] {
        case .control, .unknown, .unused:
            return includeSpecial ? Array(tokens[id].utf8) : []
        case .userDefined:
            return Array(tokens[id].utf8)
        case .normal, .byte:
            return ByteMapping.bytes(of: tokens[id])
        }
    }

    public func decode(_ ids: [Int]) -> String {
        String(decoding: ids.flatMap { bytes(of: $0) }, as: UTF8.self)
    }

    public func isControl(_ id: Int) -> Bool { id >= 0 && id < kinds.count && kinds[id] == .control }
}

/// GPT-2's reversible map between bytes and printable characters: bytes
/// that are printable Latin-1 (! … ~, ¡ … ¬, ® … ÿ) map to themselves, the
/// other 68 to U+0100 onwards in byte order.
enum ByteMapping {
    static let byteToSymbol: [String] = {
        var table = [String](repeating: "", count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            let printable = (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
            let scalar = printable ? UInt32(byte) : { defer { next += 1 }; return next }()
            table[byte] = String(Character(Unicode.Scalar(scalar)!))
        }
        return table
    }()

    static let symbolToByte: [UInt32: UInt8] = {
        var table: [UInt32: UInt8] = [:]
        for (byte, symbol) in byteToSymbol.enumerated() { table[symbol.unicodeScalars.first!.value] = UInt8(byte) }
        return table
    }()

    static func symbol(for byte: UInt8) -> String { byteToSymbol[Int(byte)] }

    /// The bytes a token's symbols stand for; a character outside the map
    /// (not produced by byte-level BPE) keeps its own UTF-8 bytes.
    static func bytes(of token: String) -> [UInt8] {
        var out: [UInt8] = []
        for scalar in token.unicodeScalars {
            if let byte = symbolToByte[scalar.value] { out.append(byte) } else { out += Array(String(scalar).utf8) }
        }
        return out
    }
}

/// Emits text as soon as it is valid UTF-8, holding back a character whose
/// bytes are split across tokens (so a stream never shows U+FFFD halves).
public struct StreamingDecoder {
    private var pending: [UInt8] = []

    public init() {}

    /// Adds bytes and returns the text that is complete so far.
    public mutating func append(_ bytes: [UInt8]) -> String {
        pending += bytes
        var end = pending.count
        // Back up over an incomplete trailing sequence (at most 3 bytes).
        var back = 0
        while back < min(3, pending.count) {
            let byte = pending[pending.count - 1 - back]
            if byte & 0xC0 != 0x80 {
                let needed = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1
                if needed > back + 1 { end = pending.count - 1 - back }
                break
            }
            back += 1
        }
        let text = String(decoding: pending[0..<end], as: UTF8.self)
        pending.removeFirst(end)
        return text
    }

    /// Whatever is left, with invalid bytes replaced.
    public mutating func finish() -> String {
        defer { pending = [] }
        return String(decoding: pending, as: UTF8.self)
    }
}
