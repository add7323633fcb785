import QuernLearning
import QuernTensor
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The acceptance measurement — 10,000 cached 384-d features, 50 epochs,
/// batch 64, 2 threads — printed, not asserted (timings depend on the
/// machine's load). Opt-in: QUERN_TRAINING_TIMING=1. Serialized: the two
/// heads must not share the cores while one is timed.
@Suite(.serialized) struct TrainingTimingTests {
    @Test(.enabled(if: getenv("QUERN_TRAINING_TIMING") != nil), arguments: [nil, 256] as [Int?])
    func tenThousandExamplesFiftyEpochs(hiddenWidth: Int?) throws {
        let threads = getenv("QUERN_TRAINING_TIMING_THREADS").flatMap { Int(String(cString: $0)) } ?? 2
        ComputeThreads.configure(threads: threads)
        let features = Tensor.random([10_000, 384], seed: 1, range: -2...2)
        let classes = (0..<10_000).map { $0 % 10 }
        let data = try TrainingExamples(features: features, targets: .classes(classes))
        let architecture = try HeadArchitecture(task: .classification, inputWidth: 384, hiddenWidth: hiddenWidth, outputWidth: 10)
        var options = TrainingOptions()
        options.epochs = 50
        options.batchSize = 64
        options.patience = nil
        options.dropout = 0.1
        options.weightDecay = 0.01
        let trainer = try Trainer(architecture: architecture, options: options)
        let start = monotonicSeconds()
        let result = try trainer.train(data)
        let elapsed = monotonicSeconds() - start
        print("training timing: \(architecture.kindName)\(hiddenWidth.map { "-\($0)" } ?? ""), 10000×384, 50 epochs, batch 64, \(threads) thread(s): "
              + "\((elapsed * 100).rounded() / 100) s (final train loss \(result.history.last!.trainLoss))")
    }

    private func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}
