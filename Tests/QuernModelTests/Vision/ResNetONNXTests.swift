import Foundation
import QuernFormats
import QuernModels
import QuernTensor
import QuernTestSupport
import Testing

enum VisionTestPaths {
    static let goldens = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path + "/Goldens"
    static var openNSFW: String { TestPaths.models + "/open-nsfw/open-nsfw.onnx" }

    /// The deterministic open_nsfw input of tools/goldens/make_resnet_goldens.py:
    /// NCHW value ((y·a + x·b + ch·c + ⌊y·x/7⌋) mod 256) − 128 (exact small integers).
    static func pattern(_ a: Int, _ b: Int, _ c: Int, height: Int = 224, width: Int = 224) -> [Float] {
        var values: [Float] = []
        values.reserveCapacity(3 * height * width)
        for ch in 0..<3 {
            for y in 0..<height {
                for x in 0..<width { values.append(Float((y * a + x * b + ch * c + (y * x) / 7) % 256 - 128)) }
            }
        }
        return values
    }
}

/// The ONNX path: the tiny fixtures exported by torch.onnx (BatchNorm folded
/// by the exporter, and kept as nodes) give PyTorch's numbers; open_nsfw
/// gives ONNX Runtime's.
@Suite struct ResNetONNXTests {
    @Test(arguments: ["resnet18-tiny", "resnet50-tiny", "resnet18-tiny-bn"])
    func tinyExportsMatchPyTorch(export: String) throws {
        let network = try ResNet.load(path: VisionTestPaths.goldens + "/\(export).onnx")
        let fixture = export.replacingOccurrences(of: "-bn", with: "")
        #expect(network.description.format == .onnx)
        #expect(network.description.depths == (fixture == "resnet18-tiny" ? [2, 2, 2, 2] : [3, 4, 6, 3]))
        #expect(network.description.widths == (fixture == "resnet18-tiny" ? [4, 8, 16, 32] : [16, 32, 64, 128]))
        #expect(network.description.block == (fixture == "resnet18-tiny" ? .basic : .bottleneck))
        #expect(!network.description.graphEndsInSoftmax && !network.description.graphInputWasNHWC)
        try ResNetParityTests.check(network, fixture: fixture)
    }

    @Test func openNSFWStructure() throws {
        let network = try ResNet.load(path: VisionTestPaths.openNSFW)
        let d = network.description
        #expect(d.block == .bottleneck && d.variant == .v1 && d.depths == [3, 4, 6, 3])
        #expect(d.widths == [128, 256, 512, 1024] && d.stemChannels == 64)
        #expect(d.graphEndsInSoftmax && d.graphInputWasNHWC)
        #expect(network.classCount == 2 && network.featureWidth == 1024)
    }

    @Test func openNSFWMatchesONNXRuntime() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: VisionTestPaths.goldens + "/open-nsfw-goldens.json"))
        let golden = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let patterns = try #require(golden["patterns"] as? [[Int]])
        let probabilities = try #require(golden["probabilities"] as? [[Double]])
        let features = try #require(golden["features"] as? [[Double]])
        let pixels = try Tensor(shape: [patterns.count, 3, 224, 224], values: patterns.flatMap { VisionTestPaths.pattern($0[0], $0[1], $0[2]) })
        let network = try ResNet.load(path: VisionTestPaths.openNSFW)
        let output = try network.run(pixels)
        for image in patterns.indices {
            let p = output.probabilities.row(image).scalars, f = output.features.row(image).scalars
            let expectedP = probabilities[image].map(Float.init), expectedF = features[image].map(Float.init)
            let scale = expectedF.map(abs).max() ?? 1
            let worstP = maxDifference(p, expectedP), worstF = maxDifference(f, expectedF) / scale
            #expect(worstP <= 1e-5, "image \(image): probabilities differ by \(worstP)")
            #expect(worstF <= 1e-5, "image \(image): features differ by \(worstF) relative to their largest value")
        }
        // One image alone gives the same numbers as inside the batch.
        let single = try network.run(pixels.rows(1..<2).copy())
        #expect(maxDifference(single.features.scalars, output.features.row(1).scalars) <= 1e-5 * (features[1].map { Float(abs($0)) }.max() ?? 1))
    }

    @Test func runRefusesWrongInputs() throws {
        let network = try ResNet.load(path: VisionTestPaths.goldens + "/resnet18-tiny.onnx")
        #expect(throws: ModelError.self) { try network.run(Tensor(zeros: [1, 4, 32, 32])) }
        #expect(throws: ModelError.self) { try network.run(Tensor(zeros: [3, 32, 32])) }
        do {
            _ = try network.run(Tensor(zeros: [1, 3, 0, 32]))
            Issue.record("an empty image ran")
        } catch { #expect(error.code == "model.invalid_input") }
        let nsfw = try ResNet.load(path: VisionTestPaths.openNSFW)
        // The 7×7 average pool of open_nsfw needs a 224-ish input.
        #expect(throws: ModelError.self) { try nsfw.run(Tensor(zeros: [1, 3, 96, 96])) }
    }
}
