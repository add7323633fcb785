import QuernLearning
import QuernTensor
import QuernTestSupport
import Testing

@Suite struct SplitTests {
    /// Class c repeated counts[c] times, classes interleaved so that index
    /// order says nothing about the class.
    static func labels(_ counts: [Int]) -> [Int] {
        var remaining = counts, labels: [Int] = []
        while remaining.contains(where: { $0 > 0 }) {
            for label in remaining.indices where remaining[label] > 0 {
                labels.append(label)
                remaining[label] -= 1
            }
        }
        return labels
    }

    static func perClass(_ indices: [Int], _ labels: [Int]) -> [Int] {
        var counts = [Int](repeating: 0, count: (labels.max() ?? -1) + 1)
        for index in indices { counts[labels[index]] += 1 }
        return counts
    }

    static func isPartition(_ split: DataSplit, count: Int) -> Bool {
        Set(split.train).isDisjoint(with: split.test) && (split.train + split.test).sorted() == Array(0..<count)
            && split.train == split.train.sorted() && split.test == split.test.sorted()
    }

    @Test func stratifiedSplitKeepsEachClassInProportion() throws {
        let labels = Self.labels([50, 30, 20])
        let split = try TrainTestSplit.stratified(labels: labels, testFraction: 0.2, seed: 1)
        #expect(Self.isPartition(split, count: 100))
        #expect(Self.perClass(split.test, labels) == [10, 6, 4])
        #expect(Self.perClass(split.train, labels) == [40, 24, 16])
        // ⌈0.25 × 10⌉ = 3 test examples: quotas 1.5, 0.9, 0.6 → 1 + 1 (largest remainders) + 1 (at least one each).
        let small = try TrainTestSplit.stratified(labels: Self.labels([5, 3, 2]), testFraction: 0.25, seed: 1)
        #expect(Self.perClass(small.test, Self.labels([5, 3, 2])) == [1, 1, 1])
    }

    @Test func everyClassOfTwoKeepsOneExampleOnEachSide() throws {
        let labels = Self.labels([2, 2, 2, 40])
        let split = try TrainTestSplit.stratified(labels: labels, testFraction: 0.1, seed: 3)
        #expect(Self.isPartition(split, count: 46))
        let test = Self.perClass(split.test, labels), train = Self.perClass(split.train, labels)
        #expect(test[0...2].allSatisfy { $0 == 1 } && train[0...2].allSatisfy { $0 == 1 })
        // ⌈4.6⌉ = 5 in total: the big class gives what the small ones could not.
        #expect(split.test.count == 5 && test[3] == 2)
        // A large fraction cannot empty the training side of a class either.
        let large = try TrainTestSplit.stratified(labels: labels, testFraction: 0.9, seed: 3)
        #expect(Self.perClass(large.train, labels).allSatisfy { $0 >= 1 })
    }

    @Test func splitsAreDeterministicForASeed() throws {
        let labels = Self.labels([20, 15, 9])
        let first = try TrainTestSplit.stratified(labels: labels, testFraction: 0.3, seed: 42)
        #expect(try TrainTestSplit.stratified(labels: labels, testFraction: 0.3, seed: 42) == first)
        #expect(try TrainTestSplit.stratified(labels: labels, testFraction: 0.3, seed: 43) != first)
        let folds = try KFold.stratified(labels: labels, folds: 4, seed: 42)
        #expect(try KFold.stratified(labels: labels, folds: 4, seed: 42) == folds)
        #expect(try KFold.stratified(labels: labels, folds: 4, seed: 7) != folds)
        // Pinned: our own shuffle (not the standard library's), so a seed
        // means the same split on every toolchain.
        let pinned = try TrainTestSplit.stratified(labels: Self.labels([6, 5, 4]), testFraction: 0.4, seed: 2024)
        #expect(pinned == DataSplit(train: PinnedSplit.train, test: PinnedSplit.test))
    }

    @Test func stratifiedFoldsTestEveryExampleOnceWithEvenClasses() throws {
        let labels = Self.labels([10, 7, 3])
        let folds = try KFold.stratified(labels: labels, folds: 5, seed: 11)
        #expect(folds.count == 5)
        #expect(folds.flatMap(\.test).sorted() == Array(0..<20))
        for fold in folds { #expect(Self.isPartition(fold, count: 20)) }
        let sizes = folds.map(\.test.count)
        #expect(sizes.max()! - sizes.min()! <= 1)
        for label in 0..<3 {
            let perFold = folds.map { Self.perClass($0.test, labels)[label] }
            #expect(perFold.max()! - perFold.min()! <= 1, "class \(label): \(perFold)")
        }
    }

    @Test func plainSplitsForNumericTargets() throws {
        let split = try TrainTestSplit.shuffled(count: 10, testFraction: 0.25, seed: 5)
        #expect(Self.isPartition(split, count: 10) && split.test.count == 3)
        let folds = try KFold.shuffled(count: 10, folds: 3, seed: 5)
        #expect(folds.map(\.test.count) == [4, 3, 3])
        #expect(folds.flatMap(\.test).sorted() == Array(0..<10))
        #expect(folds.allSatisfy { Self.isPartition($0, count: 10) })
        #expect(try KFold.shuffled(count: 10, folds: 3, seed: 5) == folds)
    }

    @Test func refusesImpossibleSplits() {
        #expect(thrownError(LearningError.self) { _ = try TrainTestSplit.stratified(labels: [0, 1], testFraction: 1, seed: 0) }?.code == "learning.invalid_parameter")
        #expect(thrownError(LearningError.self) { _ = try TrainTestSplit.shuffled(count: 1, testFraction: 0.5, seed: 0) }?.code == "learning.invalid_dataset")
        #expect(thrownError(LearningError.self) { _ = try KFold.stratified(labels: [0, 1, 0], folds: 1, seed: 0) }?.code == "learning.invalid_parameter")
        #expect(thrownError(LearningError.self) { _ = try KFold.shuffled(count: 3, folds: 4, seed: 0) }?.code == "learning.invalid_dataset")
        #expect(thrownError(LearningError.self) { _ = try KFold.stratified(labels: [0, -1], folds: 2, seed: 0) }?.code == "learning.invalid_parameter")
    }

    @Test func shuffleDrawsAreUniformAndInRange() {
        var generator = SeededGenerator(seed: 9)
        var counts = [Int](repeating: 0, count: 6)
        for _ in 0..<60_000 { counts[SeededShuffle.index(below: 6, using: &generator)] += 1 }
        #expect(counts.allSatisfy { abs($0 - 10_000) < 400 }, "\(counts)")
        #expect(SeededShuffle.shuffled(Array(0..<50), using: &generator).sorted() == Array(0..<50))
    }
}

/// What `stratified(labels: labels([6, 5, 4]), testFraction: 0.4, seed: 2024)` gives.
enum PinnedSplit {
    static let train = [0, 1, 3, 4, 5, 7, 9, 11, 12]
    static let test = [2, 6, 8, 10, 13, 14]
}
