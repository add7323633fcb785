@testable import QuernLearning
import QuernJSON
import QuernTensor
import Testing

/// Training replayed against PyTorch (tools/goldens/make_training_goldens.py):
/// the same fixture, initial weights and batch order, 20 optimiser steps in
/// float32, per optimiser and schedule.
///
/// Comparison: for every weight and bias tensor, max|ours − torch| ≤ 1e-5 ×
/// max|torch| (relative to the tensor's largest value, so an element that
/// happens to pass near zero is not held to a relative bound its rounding
/// cannot meet). float32 rounding differs between two implementations by a
/// few ulps per operation; measured after 20 steps: at most 3.5e-7.
@Suite struct PyTorchAgreementTests {
    static let relativeTolerance = 1e-5

    @Test func twentyStepsMatchPyTorch() throws {
        let goldens = try TrainingGoldens.load()
        let features = try goldens.features
        let order = try goldens.batchOrder
        let cases = try goldens.cases
        #expect(cases.count >= 13)
        for golden in cases {
            let name = golden["name"]?.stringValue ?? "?"
            let (architecture, initial) = try goldens.head(golden["head"]?.stringValue ?? "")
            let targets: TrainingTargets = architecture.task == .classification ? .classes(try goldens.classes) : .values(try goldens.values)
            let options = try Self.options(golden, epochs: order.count)
            let result = try Trainer(architecture: architecture, options: options)
                .train(TrainingExamples(features: features, targets: targets), initialParameters: initial, batchOrder: .given(order))

            let expected = try goldens.parameters(golden["final_layers"], architecture: architecture)
            for (index, (ours, theirs)) in zip(result.parameters.layers, expected.layers).enumerated() {
                Self.expectClose(ours.weight.scalars, theirs.weight.scalars, "\(name) layer \(index) weight")
                Self.expectClose(ours.bias.scalars, theirs.bias.scalars, "\(name) layer \(index) bias")
            }
            // The initial weights were copied, not trained in place.
            let reloaded = try goldens.head(golden["head"]?.stringValue ?? "").parameters
            #expect(initial.layers[0].weight.scalars == reloaded.layers[0].weight.scalars)

            // Each epoch's mean batch loss, and the rate of its last step.
            let losses = try array(golden["epoch_losses"]).map(double)
            let rates = try array(golden["learning_rates"]).map(double)
            #expect(result.history.count == losses.count)
            for (record, loss) in zip(result.history, losses) {
                #expect(abs(record.trainLoss - loss) <= 1e-5 * abs(loss), "\(name) epoch \(record.epoch): loss \(record.trainLoss), torch \(loss)")
            }
            let stepsPerEpoch = order[0].count
            for record in result.history {
                let rate = rates[record.epoch * stepsPerEpoch - 1]
                #expect(abs(record.learningRate - rate) <= 1e-12 * rate, "\(name) epoch \(record.epoch): rate \(record.learningRate), torch \(rate)")
            }
            // Every step's rate, from the schedule itself.
            for (step, rate) in rates.enumerated() {
                let ours = options.schedule.learningRate(base: options.learningRate, step: step, epoch: step / stepsPerEpoch, totalSteps: rates.count)
                #expect(abs(ours - rate) <= 1e-12 * rate, "\(name) step \(step): rate \(ours), torch \(rate)")
            }
        }
    }

    /// The case's hyper-parameters as TrainingOptions.
    static func options(_ golden: JSONValue, epochs: Int) throws -> TrainingOptions {
        var options = TrainingOptions()
        options.epochs = epochs
        options.patience = nil
        options.learningRate = try double(golden["learning_rate"])
        let kind = OptimiserKind(rawValue: golden["optimiser"]?.stringValue ?? "") ?? .sgd
        options.optimiser = OptimiserSettings(kind: kind, momentum: golden["momentum"]?.doubleValue ?? 0,
                                              nesterov: golden["nesterov"]?.boolValue ?? false,
                                              weightDecay: golden["weight_decay"]?.doubleValue ?? 0)
        if let schedule = golden["schedule"] {
            let warmup = schedule["warmup_steps"]?.intValue ?? 0
            switch schedule["decay"]?.stringValue {
            case "cosine": options.schedule = LearningRateSchedule(warmupSteps: warmup, decay: .cosine(minimum: try double(schedule["minimum_learning_rate"])))
            case "step": options.schedule = LearningRateSchedule(warmupSteps: warmup, decay: .step(everyEpochs: try int(schedule["step_epochs"]), factor: try double(schedule["step_factor"])))
            default: options.schedule = LearningRateSchedule(warmupSteps: warmup)
            }
        }
        if let loss = golden["loss"] {
            if let weights = loss["class_weights"]?.arrayValue { options.classWeighting = .custom(try weights.map(double)) }
            options.labelSmoothing = loss["label_smoothing"]?.doubleValue ?? 0
        }
        return options
    }

    static func expectClose(_ ours: [Float], _ theirs: [Float], _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let scale = theirs.map { abs(Double($0)) }.max() ?? 0
        let worst = zip(ours, theirs).map { abs(Double($0) - Double($1)) }.max() ?? .infinity
        #expect(ours.count == theirs.count && worst <= relativeTolerance * scale,
                "\(what): max difference \(worst), \(worst / scale) of the largest value \(scale)", sourceLocation: sourceLocation)
    }
}
