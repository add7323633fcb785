import QuernTensor

/// A held-out test set drawn from one dataset, deterministic for a seed.
///
/// The test set has ⌈testFraction × n⌉ examples, as scikit-learn's
/// `train_test_split` counts them. For class labels the split is stratified:
/// each class gives its share (largest remainders decide the rounding), and
/// every class with at least two examples keeps at least one on each side —
/// which can move the total a little away from the fraction when classes are
/// tiny; then it is brought back, one example at a time, from the classes
/// furthest above (or below) their exact share.
public enum TrainTestSplit {
    /// Stratified by `labels` (class indices ≥ 0).
    public static func stratified(labels: [Int], testFraction: Double, seed: UInt64) throws(LearningError) -> DataSplit {
        try checkLabels(labels)
        let total = try testCount(of: labels.count, fraction: testFraction)
        let members = classMembers(labels)
        let quotas = members.map { Double($0.count) * Double(total) / Double(labels.count) }
        let counts = allocate(total: total, quotas: quotas, sizes: members.map(\.count))
        var generator = SeededGenerator(seed: seed)
        var train: [Int] = [], test: [Int] = []
        for (indices, count) in zip(members, counts) {
            let order = SeededShuffle.shuffled(indices, using: &generator)
            test += order[..<count]
            train += order[count...]
        }
        return DataSplit(train: train.sorted(), test: test.sorted())
    }

    /// A plain shuffle split (numeric targets, where there are no classes).
    public static func shuffled(count: Int, testFraction: Double, seed: UInt64) throws(LearningError) -> DataSplit {
        let total = try testCount(of: count, fraction: testFraction)
        var generator = SeededGenerator(seed: seed)
        let order = SeededShuffle.shuffled(Array(0..<count), using: &generator)
        return DataSplit(train: order[total...].sorted(), test: order[..<total].sorted())
    }

    /// ⌈fraction × n⌉, kept within 1…n−1 so neither side is empty.
    static func testCount(of count: Int, fraction: Double) throws(LearningError) -> Int {
        guard fraction > 0, fraction < 1, fraction.isFinite else {
            throw LearningError(.invalidParameter, "the test fraction must lie strictly between 0 and 1, got \(fraction)")
        }
        guard count >= 2 else {
            throw LearningError(.invalidDataset, "a train/test split needs at least 2 examples, got \(count)")
        }
        return min(count - 1, max(1, Int((fraction * Double(count)).rounded(.up))))
    }

    static func checkLabels(_ labels: [Int]) throws(LearningError) {
        if let negative = labels.first(where: { $0 < 0 }) {
            throw LearningError(.invalidParameter, "class indices must be 0 or more, got \(negative)")
        }
    }

    /// The example indices of each class 0...max(labels), ascending.
    static func classMembers(_ labels: [Int]) -> [[Int]] {
        var members = [[Int]](repeating: [], count: (labels.max() ?? -1) + 1)
        for (index, label) in labels.enumerated() { members[label].append(index) }
        return members
    }

    /// Test examples per class: the floors of the quotas, the remainder to the
    /// largest fractional parts; then 1…size−1 for every class of two or
    /// more; then the total restored where the bounds allow. Ties go to the
    /// lower class index, so the result depends on nothing but the counts.
    static func allocate(total: Int, quotas: [Double], sizes: [Int]) -> [Int] {
        var counts = quotas.map { Int($0.rounded(.down)) }
        let byRemainder = quotas.indices.sorted { a, b in
            let (ra, rb) = (quotas[a] - Double(counts[a]), quotas[b] - Double(counts[b]))
            return ra != rb ? ra > rb : a < b
        }
        for index in byRemainder.prefix(max(0, total - counts.reduce(0, +))) { counts[index] += 1 }
        let lower = sizes.map { $0 >= 2 ? 1 : 0 }
        let upper = sizes.map { $0 >= 2 ? $0 - 1 : 0 }
        for index in counts.indices { counts[index] = min(upper[index], max(lower[index], counts[index])) }
        var sum = counts.reduce(0, +)
        while sum > total {
            let candidates = counts.indices.filter { counts[$0] > lower[$0] }
            guard let most = candidates.max(by: { excess($0, counts, quotas) < excess($1, counts, quotas) }) else { break }
            counts[most] -= 1
            sum -= 1
        }
        while sum < total {
            let candidates = counts.indices.filter { counts[$0] < upper[$0] }
            guard let most = candidates.min(by: { excess($0, counts, quotas) < excess($1, counts, quotas) }) else { break }
            counts[most] += 1
            sum += 1
        }
        return counts
    }

    /// How far a class's count is above its exact share; `max`/`min` over
    /// indices in ascending order keep the first (lowest index) of equals.
    private static func excess(_ index: Int, _ counts: [Int], _ quotas: [Double]) -> Double {
        Double(counts[index]) - quotas[index]
    }
}
