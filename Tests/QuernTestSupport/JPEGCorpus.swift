import Foundation
import QuernJSON

/// Paths and goldens of the JPEG corpora made by scripts/make-jpeg-corpus.py:
/// the decoder's small cases (Tests/QuernMediaTests/Goldens/jpeg-corpus) and
/// the real-size photos for the image pipeline (Tests/QuernModelTests/Images/Corpus/jpeg).
public enum JPEGTestSupport {
    public static var corpus: String { TestPaths.inRepository("Tests/QuernMediaTests/Goldens/jpeg-corpus") }
    public static var photos: String { TestPaths.inRepository("Tests/QuernModelTests/Images/Corpus/jpeg") }

    /// A file Pillow decodes: its upright RGB size, mode and bytes' SHA-256.
    public struct GoodFile: Sendable, CustomStringConvertible {
        public let file: String
        public let about: String
        public let pillowMode: String
        public let width: Int
        public let height: Int
        public let rgbSHA256: String
        public let path: String
        public var description: String { file }
    }

    /// A file Quern refuses: the expected code, and what Pillow does with it.
    public struct BrokenFile: Sendable, CustomStringConvertible {
        public let file: String
        public let code: String
        public let about: String
        public let pillow: String
        public let path: String
        public var description: String { file }
    }

    /// A photo with ONNX Runtime's open_nsfw outputs on Pillow's decode.
    public struct Photo: Sendable, CustomStringConvertible {
        public let file: String
        public let width: Int
        public let height: Int
        public let rgbSHA256: String
        public let inputSHA256: String
        public let probabilities: [Float]
        public let featuresPrefix: [Float]
        public let featuresNorm: Double
        public let path: String
        public var description: String { file }
    }

    static func load(_ path: String) -> JSONValue {
        guard let data = FileManager.default.contents(atPath: path), let node = try? JSONParser.parse([UInt8](data)) else { return .null }
        return node
    }

    public static let goldens = load(TestPaths.inRepository("Tests/QuernMediaTests/Goldens/jpeg-goldens.json"))
    public static let photoGoldens = load(TestPaths.inRepository("Tests/QuernModelTests/Images/Goldens/jpeg-goldens.json"))

    public static let goodFiles: [GoodFile] = (goldens["good"]?.arrayValue ?? []).map { entry in
        let file = entry["file"]?.stringValue ?? ""
        return GoodFile(file: file, about: entry["description"]?.stringValue ?? "", pillowMode: entry["pillow_mode"]?.stringValue ?? "",
                        width: entry["width"]?.intValue ?? 0, height: entry["height"]?.intValue ?? 0,
                        rgbSHA256: entry["rgb_sha256"]?.stringValue ?? "", path: corpus + "/" + file)
    }

    public static let brokenFiles: [BrokenFile] = (goldens["broken"]?.arrayValue ?? []).map { entry in
        let file = entry["file"]?.stringValue ?? ""
        return BrokenFile(file: file, code: entry["code"]?.stringValue ?? "", about: entry["description"]?.stringValue ?? "",
                          pillow: entry["pillow"]?.stringValue ?? "", path: corpus + "/" + file)
    }

    public static let photoFiles: [Photo] = (photoGoldens["good"]?.arrayValue ?? []).map { entry in
        let file = entry["file"]?.stringValue ?? ""
        return Photo(file: file, width: entry["width"]?.intValue ?? 0, height: entry["height"]?.intValue ?? 0,
                     rgbSHA256: entry["rgb_sha256"]?.stringValue ?? "", inputSHA256: entry["input_sha256"]?.stringValue ?? "",
                     probabilities: ImageTestSupport.floats(entry["probabilities"]),
                     featuresPrefix: ImageTestSupport.floats(entry["features_prefix"]),
                     featuresNorm: entry["features_norm"]?.doubleValue ?? 0, path: photos + "/" + file)
    }
}
