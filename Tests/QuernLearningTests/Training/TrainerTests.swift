@testable import QuernLearning
import QuernJSON
import QuernTensor
import QuernTestSupport
import Testing

@Suite struct TrainerTests {
    /// Three Gaussian blobs in 10 dimensions, seeded; `flipped` labels a
    /// share of the examples with the next class instead.
    static func blobs(count: Int, seed: UInt64, flipped: Double = 0) throws -> TrainingExamples {
        var generator = SeededGenerator(seed: seed)
        var values: [Float] = [], classes: [Int] = []
        for index in 0..<count {
            let label = index % 3
            for feature in 0..<10 {
                let centre: Float = feature == label ? 2.5 : 0
                values.append(centre + Float.random(in: -1...1, using: &generator) + Float.random(in: -1...1, using: &generator))
            }
            classes.append(Double.random(in: 0..<1, using: &generator) < flipped ? (label + 1) % 3 : label)
        }
        return try TrainingExamples(features: Tensor(shape: [count, 10], values: values), targets: .classes(classes))
    }

    static func options(_ change: (inout TrainingOptions) -> Void) -> TrainingOptions {
        var options = TrainingOptions()
        options.epochs = 8
        options.batchSize = 16
        change(&options)
        return options
    }

    @Test func aSeedGivesBitIdenticalWeightsAndAnotherSeedOthers() throws {
        let architecture = try HeadArchitecture(task: .classification, inputWidth: 10, hiddenWidth: 12, activation: .gelu, outputWidth: 3)
        let data = try Self.blobs(count: 150, seed: 1)
        func run(seed: UInt64) throws -> [Float] {
            let options = Self.options { $0.seed = seed; $0.dropout = 0.2; $0.weightDecay = 0.01 }
            let result = try Trainer(architecture: architecture, options: options).train(data)
            return result.parameters.layers.flatMap { $0.weight.scalars + $0.bias.scalars }
        }
        let first = try run(seed: 7)
        #expect(try run(seed: 7) == first)
        #expect(try run(seed: 8) != first)
    }

    @Test func aLinearHeadLearnsTheBlobs() throws {
        let architecture = try HeadArchitecture(task: .classification, inputWidth: 10, outputWidth: 3)
        let trainer = try Trainer(architecture: architecture, options: Self.options { $0.learningRate = 0.01; $0.dropout = 0.1 })
        var reported: [Int] = []
        let result = try trainer.train(try Self.blobs(count: 300, seed: 2), validation: try Self.blobs(count: 90, seed: 3)) { reported.append($0.epoch) }
        #expect(reported == Array(1...result.history.count))
        let last = try #require(result.history.last)
        #expect(try #require(last.validationAccuracy) > 0.9)
        #expect(try #require(last.trainAccuracy) > 0.85)
        #expect(result.history.first!.trainLoss > last.trainLoss)
    }

    @Test func earlyStoppingRestoresTheBestEpoch() throws {
        // Validation labels that disagree with training's: the validation
        // loss soon rises while the training loss keeps falling.
        let architecture = try HeadArchitecture(task: .classification, inputWidth: 10, hiddenWidth: 16, outputWidth: 3)
        let options = Self.options { $0.epochs = 60; $0.patience = 3; $0.learningRate = 0.01 }
        let trainer = try Trainer(architecture: architecture, options: options)
        let validation = try Self.blobs(count: 90, seed: 5, flipped: 0.6)
        let result = try trainer.train(try Self.blobs(count: 150, seed: 4), validation: validation)
        #expect(result.stoppedEarly)
        #expect(result.history.count == result.bestEpoch + 3)
        let losses = result.history.compactMap(\.validationLoss)
        let best = try #require(losses.min())
        #expect(losses[result.bestEpoch - 1] == best)
        #expect(losses.last! > best)
        // The returned weights are that epoch's: they give its validation loss again.
        #expect(trainer.evaluate(validation, parameters: result.parameters, loss: result.loss).loss == best)
    }

    @Test func aNonFiniteLossIsReportedAsDivergence() throws {
        let architecture = try HeadArchitecture(task: .regression, inputWidth: 10, outputWidth: 1)
        let data = try TrainingExamples(features: Tensor.random([64, 10], seed: 6, range: -3...3),
                                        targets: .values((0..<64).map { Float($0) * 1000 }))
        let options = Self.options { $0.optimiser = OptimiserSettings(kind: .sgd); $0.learningRate = 10 }
        let error = thrownError(LearningError.self) { _ = try Trainer(architecture: architecture, options: options).train(data) }
        #expect(error?.code == "learning.diverged")
        #expect(error?.message.contains("epoch") == true && error?.message.contains("lower learning_rate") == true)
    }

    @Test func balancedClassWeightsMoveTheBoundaryTowardsTheMajority() throws {
        // One feature: 190 examples of class 0 around −1, 10 of class 1
        // around +1, overlapping (noise: the sum of two uniforms, variance 1.5).
        // Unweighted, the 19:1 prior pushes the boundary far towards the
        // minority (≈ +2.2 for these densities); balanced weights bring it back near 0.
        var generator = SeededGenerator(seed: 9)
        let values = (0..<200).map { index in
            Float(index < 190 ? -1 : 1) + Float.random(in: -1.5...1.5, using: &generator) + Float.random(in: -1.5...1.5, using: &generator)
        }
        let data = try TrainingExamples(features: Tensor(shape: [200, 1], values: values),
                                        targets: .classes((0..<200).map { $0 < 190 ? 0 : 1 }))
        let architecture = try HeadArchitecture(task: .classification, inputWidth: 1, outputWidth: 2)
        func boundary(_ weighting: ClassWeighting) throws -> Double {
            let options = Self.options { $0.epochs = 60; $0.learningRate = 0.05; $0.classWeighting = weighting }
            let layer = try Trainer(architecture: architecture, options: options).train(data).parameters.layers[0]
            let w = layer.weight.scalars, b = layer.bias.scalars
            // Where the two logits are equal.
            return -Double(b[1] - b[0]) / Double(w[1] - w[0])
        }
        let uniform = try boundary(.uniform), balanced = try boundary(.balanced)
        // Measured: 1.87 and 0.55 (ten minority examples leave the balanced
        // boundary off the ideal 0 by sampling alone).
        #expect(uniform > 1.2, "uniform boundary \(uniform)")
        #expect(balanced < uniform - 1, "balanced boundary \(balanced), uniform \(uniform)")
        #expect(abs(balanced) < 1, "balanced boundary \(balanced)")
    }

    @Test func regressionRecordsNoAccuracy() throws {
        let architecture = try HeadArchitecture(task: .regression, inputWidth: 10, hiddenWidth: 8, outputWidth: 1)
        let features = Tensor.random([80, 10], seed: 10)
        let targets = (0..<80).map { row in (0..<10).map { features[flat: row * 10 + $0] }.reduce(0, +) }
        let data = try TrainingExamples(features: features, targets: .values(targets))
        let result = try Trainer(architecture: architecture, options: Self.options { $0.learningRate = 0.01 }).train(data, validation: data)
        #expect(result.history.allSatisfy { $0.trainAccuracy == nil && $0.validationAccuracy == nil })
        #expect(result.history.last!.validationLoss! < result.history.first!.validationLoss!)
    }

    @Test func refusesDataThatDoesNotFitTheHead() throws {
        let architecture = try HeadArchitecture(task: .classification, inputWidth: 10, outputWidth: 3)
        let trainer = try Trainer(architecture: architecture, options: TrainingOptions())
        let wrongClass = try TrainingExamples(features: Tensor(zeros: [2, 10]), targets: .classes([0, 3]))
        #expect(thrownError(LearningError.self) { _ = try trainer.train(wrongClass) }?.code == "learning.invalid_dataset")
        let wrongWidth = try TrainingExamples(features: Tensor(zeros: [2, 9]), targets: .classes([0, 1]))
        #expect(thrownError(LearningError.self) { _ = try trainer.train(wrongWidth) }?.code == "learning.shape_mismatch")
        let numbers = try TrainingExamples(features: Tensor(zeros: [2, 10]), targets: .values([0, 1]))
        #expect(thrownError(LearningError.self) { _ = try trainer.train(numbers) }?.code == "learning.invalid_dataset")
        let shortOrder = BatchOrder.given([[[0, 1]]])
        let data = try TrainingExamples(features: Tensor(zeros: [2, 10]), targets: .classes([0, 1]))
        #expect(thrownError(LearningError.self) { _ = try trainer.train(data, batchOrder: shortOrder) }?.code == "learning.invalid_parameter")
    }
}
