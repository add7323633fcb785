import Foundation
import QuernFormats
import QuernModels
import QuernTensor
import QuernTestSupport
import Testing

/// The tiny torchvision ResNets of ../shared/fixtures in both layouts
/// (state dict and Hugging Face folder), at 32×32 (batch 2) and 56×40:
/// logits and pooled features within 1e-4 of PyTorch.
@Suite struct ResNetParityTests {
    static let fixtures = ["resnet18-tiny", "resnet50-tiny"]

    static func inputs(_ folder: String) throws -> [String: Tensor] {
        let file = try SafetensorsFile(path: folder + "/inputs.safetensors")
        var result: [String: Tensor] = [:]
        for stored in file.tensors { result[stored.name] = try stored.floats(file: file.path) }
        return result
    }

    static func check(_ network: ResNet, fixture: String) throws {
        let folder = TestPaths.fixtures + "/" + fixture
        let expected = try FixtureExpectations(folder)
        let pixels = try inputs(folder)
        for (input, suffix) in [("pixel_values", ""), ("pixel_values_56x40", "_56x40")] {
            let output = try network.run(try #require(pixels[input]))
            let logits = expected.data("outputs", "logits" + suffix)
            let pooled = expected.data("outputs", "pooled" + suffix)
            #expect(output.logits.count == logits.count && output.features.count == pooled.count)
            #expect(maxDifference(output.logits.scalars, logits) < 1e-4, "\(fixture) \(input) logits")
            #expect(maxDifference(output.features.scalars, pooled) < 1e-4, "\(fixture) \(input) pooled")
            let sums = output.probabilities.scalars
            #expect(abs(sums[0..<network.classCount].reduce(0, +) - 1) < 1e-5)
        }
    }

    @Test(arguments: fixtures)
    func torchvisionStateDict(fixture: String) throws {
        let network = try ResNet.load(path: TestPaths.fixtures + "/" + fixture + "/model.safetensors")
        #expect(network.description.format == .torchvision)
        #expect(network.description.depths == (fixture == "resnet18-tiny" ? [2, 2, 2, 2] : [3, 4, 6, 3]))
        #expect(network.description.variant == .v1_5)
        #expect(network.classCount == 10 && network.labels == nil)
        try Self.check(network, fixture: fixture)
    }

    @Test(arguments: fixtures)
    func huggingFaceFolder(fixture: String) throws {
        let network = try ResNet.load(path: TestPaths.fixtures + "/" + fixture + "/hf")
        #expect(network.description.format == .huggingFace)
        #expect(network.labels == (0..<10).map { "class_\($0)" })
        #expect(network.featureWidth == (fixture == "resnet18-tiny" ? 32 : 128))
        try Self.check(network, fixture: fixture)
    }
}
