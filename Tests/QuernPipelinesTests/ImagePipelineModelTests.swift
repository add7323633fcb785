import Foundation
import QuernMedia
import QuernPipelines
import QuernTestSupport
import Testing

/// The image pipeline on other ResNet layouts (the tiny fixtures): labels
/// from a Hugging Face config's id2label, torchvision's preprocessing when the
/// model brings none, and a preprocessing description given as data.
@Suite struct ImagePipelineModelTests {
    static var fixtures: String {
        TestPaths.fixtures
    }

    static func classify(_ pipeline: ImageClassificationPipeline, _ file: String, topK: Int) async throws -> ClassificationOutput {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: ImageTestSupport.corpus + "/good/" + file)))
        let prepared = try pipeline.prepare(Job(request: .classify(image: bytes, topK: topK, threshold: nil)))
        let result = try await pipeline.run([prepared], context: PipelineContext(deadline: .now + .seconds(60)))[0].get()
        guard case let .classification(output) = result else { throw QuernError(.internalError, "not a classification") }
        return output
    }

    @Test func huggingFaceFolderUsesItsLabels() async throws {
        let folder = Self.fixtures + "/resnet18-tiny/hf"
        let pipeline = try ImageClassificationPipeline(path: folder, modelsDirectory: TestPaths.models)
        #expect(pipeline.preprocessing == .torchvisionImageNet)
        let output = try await Self.classify(pipeline, "photo-rocket-rgb.png", topK: 3)
        #expect(output.labels.count == 3)
        #expect(output.labels.allSatisfy { $0.label == "class_\($0.index)" })
        #expect(zip(output.labels, output.labels.dropFirst()).allSatisfy { $0.score >= $1.score })
        #expect(output.preprocessing?.name == "torchvision_imagenet")
        #expect(output.preprocessing?.steps.contains("resized 160×240 to 256×384 (Pillow bilinear)") == true)
    }

    @Test func preprocessingDescribedBesideTheModel() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("quern-image-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = folder.appendingPathComponent("tiny.safetensors")
        try FileManager.default.copyItem(atPath: Self.fixtures + "/resnet18-tiny/model.safetensors", toPath: model.path)
        var described = ImagePreprocessing.torchvisionImageNet
        described.name = "beside_the_model"
        described.resize = .exact(width: 40, height: 56)
        described.crop = nil
        try JSONEncoder().encode(described).write(to: URL(fileURLWithPath: model.path + ".preprocessing.json"))
        let pipeline = try ImageClassificationPipeline(path: model.path, modelsDirectory: TestPaths.models)
        #expect(pipeline.preprocessing == described)
        let output = try await Self.classify(pipeline, "rgb8.png", topK: 1)
        #expect(output.preprocessing?.name == "beside_the_model")
    }

    @Test func torchvisionStateDictWithDataDescribedPreprocessing() async throws {
        let file = Self.fixtures + "/resnet50-tiny/model.safetensors"
        let custom = try ImagePreprocessing(json: Data("""
            {"name": "small", "resize": {"mode": "exact", "width": 64, "height": 48}, "resample": "bicubic",
             "channel_order": "rgb", "rescale": {"mode": "divide", "factor": 255},
             "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]}
            """.utf8))
        let pipeline = try ImageClassificationPipeline(path: file, modelsDirectory: TestPaths.models, preprocessing: custom)
        let output = try await Self.classify(pipeline, "gray-alpha8.png", topK: 100)
        #expect(output.labels.count >= 2 && output.labels.count <= 100)
        let total = output.labels.reduce(Float(0)) { $0 + $1.score }
        #expect(abs(total - 1) < 1e-4, "every class reported, probabilities sum to 1")
        #expect(output.preprocessing?.name == "small")
        #expect(output.preprocessing?.steps.contains("resized 37×29 to 64×48 (Pillow bicubic)") == true)
    }
}

/// The `classify` request's options: `top_k` and `threshold`.
@Suite struct ClassifyRequestTests {
    @Test func thresholdAndTopKAreParsed() throws {
        let job = try RequestParser.parse(Array(#"{"task": "classify", "input": "iVBORw0KGgo=", "top_k": 3, "threshold": 0.25}"#.utf8))
        #expect(job.request == .classify(image: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], topK: 3, threshold: 0.25))
        for bad in [#""threshold": 1.5"#, #""threshold": -0.1"#, #""threshold": "high""#] {
            #expect(throws: QuernError.self, "\(bad)") {
                try RequestParser.parse(Array(#"{"task": "classify", "input": "iVBORw0KGgo=", \#(bad)}"#.utf8))
            }
        }
    }
}
