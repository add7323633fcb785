import Foundation
import QuernJSON
import QuernTestSupport
import Testing

/// Tests/QuernLearningTests/Goldens/metrics-goldens.json, written by
/// tools/goldens/make_metrics_goldens.py with scikit-learn 1.9.1: each
/// case's inputs and scikit-learn's metrics on them.
enum MetricsGoldens {
    static let path = TestPaths.inRepository("Tests/QuernLearningTests/Goldens/metrics-goldens.json")

    static func document() throws -> JSONValue {
        try JSONParser.parse([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
    }

    struct ClassificationCase {
        let name: String
        let classes: [String]
        let trueLabels: [Int]
        let probabilities: [[Double]]
        let expected: JSONValue
    }

    struct RegressionCase {
        let name: String
        let trueValues: [Double]
        let predictedValues: [Double]
        let expected: JSONValue
    }

    static func classificationCases() throws -> [ClassificationCase] {
        try #require(try document()["classification"]?.arrayValue).map { entry in
            ClassificationCase(name: try #require(entry["name"]?.stringValue),
                               classes: try #require(entry["classes"]?.arrayValue).map { try #require($0.stringValue) },
                               trueLabels: try ints(entry["y_true"]),
                               probabilities: try #require(entry["probabilities"]?.arrayValue).map(doubles),
                               expected: try #require(entry["expected"]))
        }
    }

    static func classificationCase(_ name: String) throws -> ClassificationCase {
        try #require(try classificationCases().first { $0.name == name }, "no golden case \(name)")
    }

    static func regressionCases() throws -> [RegressionCase] {
        try #require(try document()["regression"]?.arrayValue).map { entry in
            RegressionCase(name: try #require(entry["name"]?.stringValue), trueValues: try doubles(entry["y_true"]),
                           predictedValues: try doubles(entry["y_pred"]), expected: try #require(entry["expected"]))
        }
    }

    static func doubles(_ node: JSONValue?) throws -> [Double] {
        try #require(node?.arrayValue).map { try #require($0.doubleValue) }
    }

    /// Numbers where null stands for scikit-learn's NaN (undefined).
    static func optionalDoubles(_ node: JSONValue?) throws -> [Double?] {
        try #require(node?.arrayValue).map { element in
            guard !element.isNull else { return nil }
            guard let value = element.doubleValue else { throw NotANumber(value: element) }
            return value
        }
    }

    struct NotANumber: Error { let value: JSONValue }

    static func ints(_ node: JSONValue?) throws -> [Int] {
        try #require(node?.arrayValue).map { try #require($0.intValue) }
    }
}
