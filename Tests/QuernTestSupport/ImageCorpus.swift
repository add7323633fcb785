import Crypto
import Foundation
import QuernJSON
import QuernTensor

/// Paths of the image corpus and its goldens (tools/goldens/make_image_goldens.py).
public enum ImageTestSupport {
    public static var corpus: String { TestPaths.inRepository("Tests/QuernModelTests/Images/Corpus") }
    public static var openNSFW: String { TestPaths.models + "/open-nsfw/open-nsfw.onnx" }

    public struct GoodFile: Sendable, CustomStringConvertible {
        /// The corpus folder: "good", or "extreme" for the extreme shapes.
        public let folder: String
        public let file: String
        public let pillowMode: String
        public let width: Int
        public let height: Int
        public let rgbSHA256: String
        public let inputSHA256: String
        public let inputSamples: [(Int, Float)]
        public let probabilities: [Float]
        public let features: [Float]?
        public let featuresPrefix: [Float]
        public let featuresNorm: Double
        public let torchvisionSHA256: String?
        public let torchvisionSamples: [(Int, Float)]
        public let torchvisionShape: [Int]
        public var path: String { ImageTestSupport.corpus + "/" + folder + "/" + file }
        public var description: String { file }
    }

    public struct BrokenFile: Sendable, CustomStringConvertible {
        public let file: String
        public let code: String
        public let why: String
        public var path: String { ImageTestSupport.corpus + "/broken/" + file }
        public var description: String { file }
    }

    public static func loadGoldens(_ name: String) -> JSONValue {
        let path = TestPaths.inRepository("Tests/QuernModelTests/Images/Goldens/" + name)
        guard let data = FileManager.default.contents(atPath: path), let node = try? JSONParser.parse([UInt8](data)) else {
            return .null
        }
        return node
    }

    public static let goldens = loadGoldens("image-goldens.json")

    public static func floats(_ node: JSONValue?) -> [Float] { (node?.arrayValue ?? []).compactMap(\.doubleValue).map { Float($0) } }

    public static func pairs(_ node: JSONValue?) -> [(Int, Float)] {
        (node?.arrayValue ?? []).compactMap { pair in
            guard let items = pair.arrayValue, items.count == 2, let index = items[0].intValue, let value = items[1].doubleValue
            else { return nil }
            return (index, Float(value))
        }
    }

    public static let goodFiles = goodFileEntries(goldens, folder: "good")
    /// 1×N and N×1 strips, 400:1 and 350:1 strips, 3×3, portraits whose
    /// resize runs the vertical pass first (extreme-shape-goldens.json).
    public static let extremeShapeFiles = goodFileEntries(loadGoldens("extreme-shape-goldens.json"), folder: "extreme")

    public static func goodFileEntries(_ goldens: JSONValue, folder: String) -> [GoodFile] {
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

    public static let brokenFiles: [BrokenFile] = (goldens["broken"]?.arrayValue ?? []).map { entry in
        BrokenFile(file: entry["file"]?.stringValue ?? "", code: entry["code"]?.stringValue ?? "", why: entry["why"]?.stringValue ?? "")
    }

    /// sha256 of the float32 values as little-endian bytes (the goldens' form).
    public static func sha256(of tensor: Tensor) -> String {
        tensor.withBuffer { values in sha256(of: UnsafeRawBufferPointer(values)) }
    }

    public static func sha256(of bytes: UnsafeRawBufferPointer) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    public static func sha256(of bytes: [UInt8]) -> String {
        bytes.withUnsafeBytes { sha256(of: $0) }
    }
}
