import Foundation
import QuernFormats
import QuernJSON
import QuernMedia
import QuernPipelines
import QuernTensor
import Testing

/// Paths of the image corpus and its goldens (tools/goldens/make_image_goldens.py).
enum ImageTestSupport {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path
    static var corpus: String { repository + "/Tests/QuernModelTests/Images/Corpus" }
    static var models: String { ProcessInfo.processInfo.environment["QUERN_MODELS"] ?? repository + "/models" }
    static var openNSFW: String { models + "/open-nsfw/open-nsfw.onnx" }

    struct GoodFile: Sendable, CustomStringConvertible {
        /// The corpus folder: "good", or "extreme" for the extreme shapes.
        let folder: String
        let file: String
        let pillowMode: String
        let width: Int
        let height: Int
        let rgbSHA256: String
        let inputSHA256: String
        let inputSamples: [(Int, Float)]
        let probabilities: [Float]
        let features: [Float]?
        let featuresPrefix: [Float]
        let featuresNorm: Double
        let torchvisionSHA256: String?
        let torchvisionSamples: [(Int, Float)]
        let torchvisionShape: [Int]
        var path: String { ImageTestSupport.corpus + "/" + folder + "/" + file }
        var description: String { file }
    }

    struct BrokenFile: Sendable, CustomStringConvertible {
        let file: String
        let code: String
        let why: String
        var path: String { ImageTestSupport.corpus + "/broken/" + file }
        var description: String { file }
    }

    static func loadGoldens(_ name: String) -> JSONValue {
        let path = repository + "/Tests/QuernModelTests/Images/Goldens/" + name
        guard let data = FileManager.default.contents(atPath: path), let node = try? JSONParser.parse([UInt8](data)) else {
            return .null
        }
        return node
    }

    static let goldens = loadGoldens("image-goldens.json")

    static func floats(_ node: JSONValue?) -> [Float] { (node?.arrayValue ?? []).compactMap(\.doubleValue).map { Float($0) } }

    static func pairs(_ node: JSONValue?) -> [(Int, Float)] {
        (node?.arrayValue ?? []).compactMap { pair in
            guard let items = pair.arrayValue, items.count == 2, let index = items[0].intValue, let value = items[1].doubleValue
            else { return nil }
            return (index, Float(value))
        }
    }

    static let goodFiles = goodFileEntries(goldens, folder: "good")
    /// 1×N and N×1 strips, 400:1 and 350:1 strips, 3×3, portraits whose
    /// resize runs the vertical pass first (extreme-shape-goldens.json).
    static let extremeShapeFiles = goodFileEntries(loadGoldens("extreme-shape-goldens.json"), folder: "extreme")

    static func goodFileEntries(_ goldens: JSONValue, folder: String) -> [GoodFile] {
        (goldens["good"]?.arrayValue ?? []).map { entry in
            GoodFile(
                folder: folder, file: entry["file"]?.stringValue ?? "", pillowMode: entry["pillow_mode"]?.stringValue ?? "",
                width: entry["width"]?.intValue ?? 0, height: entry["height"]?.intValue ?? 0,
                rgbSHA256: entry["rgb_sha256"]?.stringValue ?? "", inputSHA256: entry["input_sha256"]?.stringValue ?? "",
                inputSamples: pairs(entry["input_samples"]), probabilities: floats(entry["probabilities"]),
                features: entry["features"].map { floats($0) }, featuresPrefix: floats(entry["features_prefix"] ?? entry["features"]),
                featuresNorm: entry["features_norm"]?.doubleValue ?? 0,
                torchvisionSHA256: entry["torchvision_input_sha256"]?.stringValue,
                torchvisionSamples: pairs(entry["torchvision_input_samples"]),
                torchvisionShape: (entry["torchvision_input_shape"]?.arrayValue ?? []).compactMap(\.intValue))
        }
    }

    static let brokenFiles: [BrokenFile] = (goldens["broken"]?.arrayValue ?? []).map { entry in
        BrokenFile(file: entry["file"]?.stringValue ?? "", code: entry["code"]?.stringValue ?? "", why: entry["why"]?.stringValue ?? "")
    }

    /// sha256 of the float32 values as little-endian bytes (the goldens' form).
    static func sha256(of tensor: Tensor) -> String {
        tensor.withBuffer { values in SHA256Hex.of(UnsafeRawBufferPointer(values)) }
    }
}
