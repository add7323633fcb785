/// A binary min-heap of merge candidates: the lowest rank first, and on
/// equal ranks the leftmost position first — the order in which byte-level
/// BPE applies merges. Stale candidates are not removed when a merge makes
/// them invalid; the merge loop checks each one as it comes out (lazy
/// invalidation), which keeps every operation O(log n).
struct MergeQueue {
    struct Candidate: Comparable {
        /// Priority of the merge (its index in the merge list).
        var rank: Int
        /// Index of the left symbol of the pair in the word's symbol array.
        var position: Int

        static func < (a: Candidate, b: Candidate) -> Bool {
            a.rank != b.rank ? a.rank < b.rank : a.position < b.position
        }
    }

    private var storage: [Candidate] = []

    init(capacity: Int) { storage.reserveCapacity(capacity) }

    var isEmpty: Bool { storage.isEmpty }

    mutating func push(_ candidate: Candidate) {
        storage.append(candidate)
        var child = storage.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard storage[child] < storage[parent] else { break }
            storage.swapAt(child, parent)
            child = parent
        }
    }

    mutating func popMinimum() -> Candidate? {
        guard let last = storage.popLast() else { return nil }
        guard !storage.isEmpty else { return last }
        let minimum = storage[0]
        storage[0] = last
        var parent = 0
        let count = storage.count
        while true {
            let left = 2 * parent + 1
            guard left < count else { break }
            let right = left + 1
            let smaller = right < count && storage[right] < storage[left] ? right : left
            guard storage[smaller] < storage[parent] else { break }
            storage.swapAt(smaller, parent)
            parent = smaller
        }
        return minimum
    }
}
