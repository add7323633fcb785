import QuernTensor

/// K-fold cross-validation: K splits whose test sets partition the examples,
/// each example tested exactly once. Deterministic for a seed.
public enum KFold {
    /// Stratified like scikit-learn's `StratifiedKFold(shuffle=True)`: each
    /// fold gets ⌊n_c/K⌋ or ⌈n_c/K⌉ examples of class c and the fold sizes
    /// differ by at most one — the examples, sorted by class, are dealt to
    /// the folds in turn, which fixes how many of each class a fold gets;
    /// which ones is drawn with the seed. A class with fewer than K examples
    /// is missing from some folds' test sets (scikit-learn warns about it;
    /// the caller can compare `classCounts` with K to say so).
    public static func stratified(labels: [Int], folds: Int, seed: UInt64) throws(LearningError) -> [DataSplit] {
        try TrainTestSplit.checkLabels(labels)
        try checkFolds(folds, count: labels.count)
        let members = TrainTestSplit.classMembers(labels)
        // allocation[f][c]: how many examples of class c fold f tests.
        var allocation = [[Int]](repeating: [Int](repeating: 0, count: members.count), count: folds)
        var position = 0
        for (label, indices) in members.enumerated() {
            for _ in indices {
                allocation[position % folds][label] += 1
                position += 1
            }
        }
        var generator = SeededGenerator(seed: seed)
        var tests = [[Int]](repeating: [], count: folds)
        for (label, indices) in members.enumerated() {
            var remaining = SeededShuffle.shuffled(indices, using: &generator)[...]
            for fold in 0..<folds {
                let taken = allocation[fold][label]
                tests[fold] += remaining.prefix(taken)
                remaining = remaining.dropFirst(taken)
            }
        }
        return splits(testSets: tests, count: labels.count)
    }

    /// Plain K-fold on a seeded shuffle (numeric targets): scikit-learn's
    /// `KFold(shuffle=True)` sizes, the first n mod K folds one larger.
    public static func shuffled(count: Int, folds: Int, seed: UInt64) throws(LearningError) -> [DataSplit] {
        try checkFolds(folds, count: count)
        var generator = SeededGenerator(seed: seed)
        let order = SeededShuffle.shuffled(Array(0..<count), using: &generator)
        var tests: [[Int]] = []
        var start = 0
        for fold in 0..<folds {
            let size = count / folds + (fold < count % folds ? 1 : 0)
            tests.append(Array(order[start..<start + size]))
            start += size
        }
        return splits(testSets: tests, count: count)
    }

    static func checkFolds(_ folds: Int, count: Int) throws(LearningError) {
        guard folds >= 2 else { throw LearningError(.invalidParameter, "cross-validation needs at least 2 folds, got \(folds)") }
        guard folds <= count else {
            throw LearningError(.invalidDataset, "\(folds) folds need at least \(folds) examples, the dataset has \(count); use fewer folds")
        }
    }

    private static func splits(testSets: [[Int]], count: Int) -> [DataSplit] {
        testSets.map { test in
            var isTest = [Bool](repeating: false, count: count)
            for index in test { isTest[index] = true }
            return DataSplit(train: (0..<count).filter { !isTest[$0] }, test: test.sorted())
        }
    }
}
