@testable import QuernLearning
import QuernJSON
import QuernTestSupport
import Testing

@Suite struct TrainingOptionsTests {
    @Test func everyHyperParameterHasAStableName() {
        var options = TrainingOptions()
        options.schedule = LearningRateSchedule(warmupSteps: 10, decay: .cosine(minimum: 1e-5))
        options.classWeighting = .balanced
        let keys = options.jsonDescription.objectValue?.map(\.key)
        #expect(keys == ["epochs", "batch_size", "learning_rate", "schedule", "optimiser", "momentum", "nesterov", "beta1", "beta2",
                         "epsilon", "weight_decay", "dropout", "class_weights", "label_smoothing", "seed", "patience"])
        #expect(options.jsonDescription["schedule"] == .object([("warmup_steps", .int(10)), ("decay", .string("cosine")),
                                                                 ("minimum_learning_rate", .double(1e-5))]))
        #expect(options.jsonDescription["optimiser"] == .string("adamw"))
        #expect(options.jsonDescription["class_weights"] == .string("balanced"))
    }

    @Test func aBadOptionIsRefusedByName() {
        func code(_ change: (inout TrainingOptions) -> Void) -> String? {
            var options = TrainingOptions()
            change(&options)
            return thrownError(LearningError.self) { try options.validate() }.map { "\($0.code) \($0.message)" }
        }
        #expect(code { _ in } == nil)
        #expect(code { $0.learningRate = 0 }?.contains("learning_rate") == true)
        #expect(code { $0.batchSize = 0 }?.contains("batch_size") == true)
        #expect(code { $0.dropout = 1 }?.contains("dropout") == true)
        #expect(code { $0.optimiser.nesterov = true }?.contains("nesterov") == true)
        #expect(code { $0.schedule = LearningRateSchedule(decay: .step(everyEpochs: 0, factor: 0.5)) }?.contains("step_epochs") == true)
        #expect(code { $0.patience = 0 }?.hasPrefix("learning.invalid_parameter") == true)
    }

    @Test func schedulesFollowTheirFormulas() {
        let warmupOnly = LearningRateSchedule(warmupSteps: 4)
        #expect((0..<6).map { warmupOnly.learningRate(base: 1, step: $0, epoch: 0, totalSteps: 100) } == [0.25, 0.5, 0.75, 1, 1, 1])
        let stepDecay = LearningRateSchedule(decay: .step(everyEpochs: 3, factor: 0.1))
        #expect(abs(stepDecay.learningRate(base: 2, step: 50, epoch: 7, totalSteps: 100) - 0.02) < 1e-15)
        let cosine = LearningRateSchedule(warmupSteps: 10, decay: .cosine(minimum: 0.1))
        #expect(cosine.learningRate(base: 1, step: 10, epoch: 0, totalSteps: 110) == 1)
        #expect(abs(cosine.learningRate(base: 1, step: 60, epoch: 0, totalSteps: 110) - 0.55) < 1e-15)
        #expect(cosine.learningRate(base: 1, step: 109, epoch: 0, totalSteps: 110) > 0.1)
    }
}
