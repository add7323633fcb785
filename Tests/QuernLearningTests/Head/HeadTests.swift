import QuernLearning
import QuernTensor
import QuernTestSupport
import Testing

@Suite struct HeadTests {
    @Test func standardisationIsStandardScalers() throws {
        // Column 0: mean 2, population std √(8/3); column 1 never varies.
        let features = Tensor(vector: [0, 5, 2, 5, 4, 5]).reshaped([3, 2])
        let fitted = try Standardisation(fitting: features)
        #expect(fitted.mean == [2, 5])
        #expect(abs(Double(fitted.std[0]) - (8.0 / 3).squareRoot()) < 1e-6)
        #expect(fitted.std[1] == 1)
        let scaled = try fitted.apply(features).scalars
        #expect(abs(scaled[0] + 1.2247449) < 1e-6 && scaled[1] == 0 && scaled[2] == 0)
    }

    @Test func initialisationIsSeededAndWithinPyTorchsBound() throws {
        let architecture = try HeadArchitecture(task: .classification, inputWidth: 16, hiddenWidth: 4, outputWidth: 3)
        let first = HeadParameters(initialisedFor: architecture, seed: 7)
        let again = HeadParameters(initialisedFor: architecture, seed: 7)
        #expect(first.layers[0].weight.scalars == again.layers[0].weight.scalars)
        #expect(first.layers[0].weight.scalars.allSatisfy { abs($0) <= 0.25 })
        #expect(first.layers[1].bias.scalars.allSatisfy { abs($0) <= 0.5 })
        #expect(first.layers[0].weight.scalars != HeadParameters(initialisedFor: architecture, seed: 8).layers[0].weight.scalars)
    }

    @Test func logisticHeadPredictsSoftmaxOfTheAffineMap() throws {
        let architecture = try HeadArchitecture(task: .classification, inputWidth: 2, outputWidth: 2)
        let layer = try DenseLayer(weight: Tensor(vector: [1, 0, 0, 1]).reshaped([2, 2]), bias: Tensor(vector: [0, 1]))
        let head = try Head(architecture: architecture, classes: ["neg", "pos"],
                            standardisation: Standardisation(mean: [0, 0], std: [1, 2]),
                            parameters: HeadParameters(layers: [layer]))
        let predictions = try head.predictions([[2, 2]])
        // Logits (2, 1 + 1) are equal: probabilities ½ each, the first class wins the tie.
        guard case let .label(label, scores) = predictions[0] else { Issue.record("no label"); return }
        #expect(label == "neg")
        #expect(scores.map(\.0) == ["neg", "pos"])
        #expect(scores.allSatisfy { abs($0.1 - 0.5) < 1e-7 })
    }

    @Test func refusesAHeadWhoseFilesDisagree() throws {
        let architecture = try HeadArchitecture(task: .classification, inputWidth: 3, outputWidth: 2)
        let wrong = try DenseLayer(weight: Tensor(zeros: [2, 4]), bias: Tensor(zeros: [2]))
        let error = thrownError(LearningError.self) {
            _ = try Head(architecture: architecture, classes: ["a", "b"], standardisation: Standardisation(mean: [0, 0, 0], std: [1, 1, 1]),
                         parameters: HeadParameters(layers: [wrong]))
        }
        #expect(error?.code == "learning.invalid_head")
    }
}
