import Foundation
import QuernFormats
import QuernJSON
import QuernModels
import QuernTensor
import Testing

/// Paths and small helpers shared by the embedding tests.
enum EmbeddingTestSupport {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path
    static var fixtures: String { ProcessInfo.processInfo.environment["QUERN_FIXTURES"] ?? repository + "/../shared/fixtures" }
    static var models: String { ProcessInfo.processInfo.environment["QUERN_MODELS"] ?? repository + "/models" }
    static var miniLM: String { models + "/all-minilm-l6-v2" }
    static var goldens: String { repository + "/Tests/QuernModelTests/Embeddings/Goldens" }

    /// The real model folder, or a failure that says how to get it.
    static func requireMiniLM() throws -> String {
        let folder = miniLM
        guard FileManager.default.fileExists(atPath: folder + "/model.safetensors") else {
            Issue.record("the all-MiniLM-L6-v2 model is missing from \(folder): run scripts/fetch-models.sh (scripts/test.sh does it before testing)")
            throw MissingModel()
        }
        return folder
    }

    struct MissingModel: Error {}

    static func json(_ path: String) throws -> JSONValue {
        try JSONParser.parse([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
    }

    /// Flat float data of a fixture tensor output (`{"shape", "data", …}`) or a plain list.
    static func floats(_ node: JSONValue?) -> [Float] {
        let list = node?["data"]?.arrayValue ?? node?.arrayValue ?? []
        return list.compactMap(\.doubleValue).map { Float($0) }
    }

    static func ints(_ node: JSONValue?) -> [Int] { (node?.arrayValue ?? []).compactMap(\.intValue) }

    static func largestDifference(_ a: [Float], _ b: [Float]) -> Float {
        guard a.count == b.count else { return .infinity }
        return zip(a, b).map { abs($0 - $1) }.max() ?? 0
    }

    static func cosine(_ a: [Float], _ b: [Float]) -> Double {
        guard a.count == b.count, !a.isEmpty else { return -1 }
        var dot = 0.0, na = 0.0, nb = 0.0
        for (x, y) in zip(a, b) {
            dot += Double(x) * Double(y)
            na += Double(x) * Double(x)
            nb += Double(y) * Double(y)
        }
        return dot / max((na * nb).squareRoot(), 1e-30)
    }
}
