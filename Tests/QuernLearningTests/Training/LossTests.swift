@testable import QuernLearning
import QuernJSON
import QuernTensor
import QuernTestSupport
import Testing

/// The losses against nn.CrossEntropyLoss / nn.MSELoss and the balanced
/// weights against scikit-learn (goldens from make_training_goldens.py).
@Suite struct LossTests {
    @Test func crossEntropyIsPyTorchsWithWeightsAndSmoothing() throws {
        let losses = try #require(try TrainingGoldens.load().document["losses"])
        let logits = try floats(losses["logits"])
        let classes = try array(losses["classes"]).map(int)
        for golden in try array(losses["cross_entropy"]) {
            let name = golden["name"]?.stringValue ?? "?"
            let weights = try golden["class_weights"]?.arrayValue.map { try $0.map(double) }
            let loss = LossFunction.crossEntropy(classWeights: weights, labelSmoothing: try double(golden["label_smoothing"]))
            let (value, gradient) = loss.valueAndGradient(outputs: logits, width: 4, targets: .classes(classes))
            // Both sides accumulate the float32 logits in Double.
            let expected = try double(golden["loss"])
            #expect(abs(value - expected) <= 1e-12 * expected, "\(name): \(value), torch \(expected)")
            let torchGradient = try floats(golden["gradient"])
            let worst = zip(gradient, torchGradient).map { abs($0 - $1) }.max() ?? .infinity
            #expect(worst <= 1e-6 * (torchGradient.map(abs).max() ?? 0), "\(name): gradient differs by \(worst)")
        }
    }

    @Test func meanSquaredErrorIsPyTorchs() throws {
        let golden = try #require(try TrainingGoldens.load().document["losses"]?["mse"])
        let outputs = try floats(golden["outputs"])
        let (value, gradient) = LossFunction.meanSquaredError.valueAndGradient(outputs: outputs, width: 1, targets: .values(try floats(golden["targets"])))
        let expected = try double(golden["loss"])
        #expect(abs(value - expected) <= 1e-12 * expected)
        for (ours, theirs) in zip(gradient, try floats(golden["gradient"])) { #expect(abs(ours - theirs) <= 1e-6 * max(abs(theirs), 1)) }
    }

    @Test func balancedWeightsAreScikitLearns() throws {
        let golden = try #require(try TrainingGoldens.load().document["losses"]?["balanced"])
        let weights = try ClassWeighting.balancedWeights(classCounts: try array(golden["class_counts"]).map(int))
        for (ours, theirs) in zip(weights, try array(golden["weights"]).map(double)) { #expect(abs(ours - theirs) <= 1e-15 * theirs) }
        #expect(try ClassWeighting.uniform.weights(classCounts: [3, 4]) == nil)
        let error = thrownError(LearningError.self) { _ = try ClassWeighting.balanced.weights(classCounts: [3, 0]) }
        #expect(error?.code == "learning.invalid_dataset")
    }

    @Test func crossEntropyIsStableForHugeLogits() {
        // log-sum-exp: 1000 and −1000 neither overflow nor lose the answer.
        let value = LossFunction.crossEntropy.value(outputs: [1000, -1000, 999] as [Float], width: 3, targets: .classes([2]))
        #expect(abs(value - 1.313_261_687_518_222_8) < 1e-12)
    }
}
