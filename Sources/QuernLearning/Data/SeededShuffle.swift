import QuernTensor

/// Shuffles with our own Fisher–Yates and bounded draws on `SeededGenerator`,
/// not the standard library's `shuffle(using:)`: its algorithm is not part
/// of Swift's contract, and a split must stay the same for a seed across
/// toolchains (a head records the seed it was trained with).
public enum SeededShuffle {
    /// `values` in an order that depends only on `seed` and the count.
    public static func shuffled<Element>(_ values: [Element], using generator: inout SeededGenerator) -> [Element] {
        var result = values
        var position = result.count - 1
        while position > 0 {
            result.swapAt(position, index(below: position + 1, using: &generator))
            position -= 1
        }
        return result
    }

    /// A uniform integer in 0..<bound (bound ≥ 1): Lemire's multiply-shift,
    /// rejecting the few low products that would bias it.
    public static func index(below bound: Int, using generator: inout SeededGenerator) -> Int {
        precondition(bound > 0, "a bound of at least 1")
        let range = UInt64(bound)
        // 2^64 mod range: products whose low half falls below it are redrawn.
        let threshold = (0 &- range) % range
        while true {
            let (high, low) = generator.next().multipliedFullWidth(by: range)
            if low >= threshold { return Int(high) }
        }
    }
}
