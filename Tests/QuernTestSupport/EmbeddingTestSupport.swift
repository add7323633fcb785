import Foundation
import QuernJSON

/// Paths and small helpers shared by the embedding tests.
public enum EmbeddingTestSupport {
    public static var miniLM: String { TestPaths.models + "/all-minilm-l6-v2" }
    public static var goldens: String { TestPaths.inRepository("Tests/QuernModelTests/Embeddings/Goldens") }

    /// The real model folder, or a failure that says how to get it.
    public static func requireMiniLM() throws -> String {
        let folder = miniLM
        guard FileManager.default.fileExists(atPath: folder + "/model.safetensors") else {
            throw MissingModel(description: "the all-MiniLM-L6-v2 model is missing from \(folder): run scripts/fetch-models.sh (scripts/test.sh does it before testing)")
        }
        return folder
    }

    public struct MissingModel: Error, CustomStringConvertible {
        public let description: String
    }

    public static func json(_ path: String) throws -> JSONValue {
        try JSONParser.parse([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
    }

    /// Flat float data of a fixture tensor output (`{"shape", "data", …}`) or a plain list.
    public static func floats(_ node: JSONValue?) -> [Float] {
        let list = node?["data"]?.arrayValue ?? node?.arrayValue ?? []
        return list.compactMap(\.doubleValue).map { Float($0) }
    }

    public static func ints(_ node: JSONValue?) -> [Int] { (node?.arrayValue ?? []).compactMap(\.intValue) }

    public static func largestDifference(_ a: [Float], _ b: [Float]) -> Float {
        guard a.count == b.count else { return .infinity }
        return zip(a, b).map { abs($0 - $1) }.max() ?? 0
    }

    public static func cosine(_ a: [Float], _ b: [Float]) -> Double {
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
