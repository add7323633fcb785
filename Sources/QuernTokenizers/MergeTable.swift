/// A byte-level BPE merge list in integer form, and the merge loop over it.
///
/// Every symbol a merge mentions or produces (and every byte's symbol) is
/// interned once, at load, as a small integer; a pair of symbols then looks
/// up its merge by one integer key instead of building a "left right"
/// string per adjacent pair per step.
///
/// The loop applies the lowest-rank pair first, the leftmost one on equal
/// ranks — the order of the straightforward algorithm that rescans the word
/// after every merge — but in O(n log n) for a word of n bytes: the symbols
/// form a doubly linked list over an array, and candidate pairs wait in a
/// binary heap (`MergeQueue`), checked when they come out rather than
/// removed when a neighbouring merge invalidates them (as Hugging Face
/// tokenizers and llama.cpp do).
struct MergeTable: Sendable {
    struct Merge: Sendable {
        var rank: Int
        var result: Int32
    }

    /// Interned symbol strings; a symbol's number is its index here.
    let symbols: [String]
    /// The vocabulary id of each symbol, or -1 when the symbol is not a token.
    let tokenIDs: [Int]
    /// The symbol of each byte value (GPT-2's byte-to-character map).
    let byteSymbols: [Int32]
    private let merges: [UInt64: Merge]

    /// - merges: "left right" pairs, highest priority first; a repeated
    ///   pair keeps its first (best) rank.
    init(merges list: [String], ids: [String: Int]) throws(TokenizerError) {
        var numbers: [String: Int32] = [:]
        var symbols: [String] = []
        func intern(_ symbol: String) -> Int32 {
            if let number = numbers[symbol] { return number }
            let number = Int32(symbols.count)
            numbers[symbol] = number
            symbols.append(symbol)
            return number
        }
        byteSymbols = (0..<256).map { intern(ByteMapping.symbol(for: UInt8($0))) }
        var merges: [UInt64: Merge] = [:]
        merges.reserveCapacity(list.count)
        for (rank, merge) in list.enumerated() {
            let parts = merge.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw TokenizerError(.invalidValue, "merge \(rank) \"\(merge)\" is not two symbols separated by one space")
            }
            let left = String(parts[0]), right = String(parts[1])
            let key = Self.key(intern(left), intern(right))
            if merges[key] == nil { merges[key] = Merge(rank: rank, result: intern(left + right)) }
        }
        self.merges = merges
        self.symbols = symbols
        tokenIDs = symbols.map { ids[$0] ?? -1 }
    }

    private static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    func merge(_ left: Int32, _ right: Int32) -> Merge? { merges[Self.key(left, right)] }

    /// The symbols `bytes` end as once no ranked pair is left.
    func merge(_ bytes: [UInt8]) -> [Int32] {
        let count = bytes.count
        var symbol = bytes.map { byteSymbols[Int($0)] }
        guard count > 1 else { return symbol }
        // A merged pair lives on at its left position; the right one is
        // marked dead (-1) and unlinked.
        let dead: Int32 = -1
        var previous = Array(-1..<count - 1)
        var next = Array(1...count)
        next[count - 1] = -1
        var queue = MergeQueue(capacity: count)
        for position in 0..<count - 1 {
            if let merge = merge(symbol[position], symbol[position + 1]) {
                queue.push(.init(rank: merge.rank, position: position))
            }
        }
        while let candidate = queue.popMinimum() {
            let left = candidate.position
            // Stale if the left symbol was absorbed or either side has
            // changed since the candidate was queued: the pair there now
            // would have a different rank (a rank names exactly one pair).
            guard symbol[left] != dead else { continue }
            let right = next[left]
            guard right >= 0, let merge = merge(symbol[left], symbol[right]), merge.rank == candidate.rank else { continue }
            symbol[left] = merge.result
            symbol[right] = dead
            let after = next[right]
            next[left] = after
            if after >= 0 { previous[after] = left }
            let before = previous[left]
            if before >= 0, let merge = self.merge(symbol[before], symbol[left]) {
                queue.push(.init(rank: merge.rank, position: before))
            }
            if after >= 0, let merge = self.merge(symbol[left], symbol[after]) {
                queue.push(.init(rank: merge.rank, position: left))
            }
        }
        var result: [Int32] = []
        var position = 0  // the first symbol is never absorbed into another
        while position >= 0 {
            result.append(symbol[position])
            position = next[position]
        }
        return result
    }
}
