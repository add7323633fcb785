import QuernTensor

/// Which examples each mini-batch holds.
public enum BatchOrder: Sendable {
    /// Every epoch a new permutation of the training examples (from the
    /// run's seed), cut into batches of `batchSize`; the last may be smaller.
    case shuffled
    /// Exactly these batches of example indices, one list of batches per
    /// epoch (as many lists as epochs): to replay another implementation's
    /// run, batch for batch.
    case given([[[Int]]])

    /// Checks a given order fits `epochs` epochs over `count` examples.
    func validate(epochs: Int, count: Int) throws(LearningError) {
        guard case let .given(perEpoch) = self else { return }
        guard perEpoch.count == epochs else {
            throw LearningError(.invalidParameter, "the batch order lists \(perEpoch.count) epochs, training runs \(epochs)")
        }
        for (epoch, batches) in perEpoch.enumerated() {
            guard !batches.isEmpty, batches.allSatisfy({ !$0.isEmpty }) else {
                throw LearningError(.invalidParameter, "epoch \(epoch + 1) of the batch order has an empty batch or none")
            }
            if let bad = batches.joined().first(where: { $0 < 0 || $0 >= count }) {
                throw LearningError(.invalidParameter, "the batch order names example \(bad), there are \(count)")
            }
        }
    }

    /// The largest batch a run will see.
    func largestBatch(batchSize: Int, count: Int) -> Int {
        switch self {
        case .shuffled: return min(batchSize, count)
        case let .given(perEpoch): return perEpoch.joined().map(\.count).max() ?? 1
        }
    }

    /// Optimiser steps over the whole run.
    func totalSteps(epochs: Int, batchSize: Int, count: Int) -> Int {
        switch self {
        case .shuffled: return epochs * ((count + batchSize - 1) / batchSize)
        case let .given(perEpoch): return perEpoch.map(\.count).reduce(0, +)
        }
    }

    /// The batches of `epoch` (0-based).
    func batches(epoch: Int, batchSize: Int, count: Int, generator: inout SeededGenerator) -> [[Int]] {
        switch self {
        case let .given(perEpoch):
            return perEpoch[epoch]
        case .shuffled:
            // Fisher–Yates on a fresh identity, written out (rather than
            // `shuffle(using:)`) so the order cannot change with the toolchain.
            var order = Array(0..<count)
            var index = count - 1
            while index > 0 {
                order.swapAt(index, Int(generator.next(upperBound: UInt64(index + 1))))
                index -= 1
            }
            return stride(from: 0, to: count, by: batchSize).map { Array(order[$0..<min(count, $0 + batchSize)]) }
        }
    }
}
