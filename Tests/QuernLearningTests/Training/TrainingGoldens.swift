@testable import QuernLearning
import QuernJSON
import QuernTensor
import QuernTestSupport
import Foundation

/// tools/goldens/make_training_goldens.py's output: a fixture, initial
/// weights, a batch order and what PyTorch made of them.
struct TrainingGoldens {
    let document: JSONValue

    static func load() throws -> TrainingGoldens {
        let path = TestPaths.inRepository("Tests/QuernLearningTests/Goldens/training-steps.json")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        return TrainingGoldens(document: try JSONParser.parse([UInt8](bytes)))
    }

    var features: Tensor {
        get throws {
            let rows = try int(document["rows"]), columns = try int(document["columns"])
            return try Tensor(shape: [rows, columns], values: floats(document["features"]))
        }
    }

    var classes: [Int] { get throws { try array(document["classes"]).map(int) } }
    var values: [Float] { get throws { try floats(document["values"]) } }
    var batchOrder: [[[Int]]] {
        get throws { try array(document["batch_order"]).map { try array($0).map { try array($0).map(int) } } }
    }
    var cases: [JSONValue] { get throws { try array(document["cases"]) } }

    /// The architecture and initial weights of head `name`.
    func head(_ name: String) throws -> (architecture: HeadArchitecture, parameters: HeadParameters) {
        guard let head = document["heads"]?[name] else { throw GoldenError.missing("heads.\(name)") }
        let task = HeadTask(rawValue: head["task"]?.stringValue ?? "") ?? .classification
        let activation = HeadActivation(rawValue: head["activation"]?.stringValue ?? "") ?? .relu
        let hidden = head["hidden"]?.intValue
        let architecture = try HeadArchitecture(task: task, inputWidth: try int(document["columns"]), hiddenWidth: hidden,
                                                activation: activation, outputWidth: try int(head["outputs"]))
        return (architecture, try parameters(head["layers"], architecture: architecture))
    }

    func parameters(_ layers: JSONValue?, architecture: HeadArchitecture) throws -> HeadParameters {
        let shapes = architecture.layerShapes
        let list = try array(layers)
        guard list.count == shapes.count else { throw GoldenError.missing("layers") }
        return HeadParameters(layers: try zip(list, shapes).map { layer, shape in
            try DenseLayer(weight: Tensor(shape: [shape.output, shape.input], values: floats(layer["weight"])),
                           bias: Tensor(vector: floats(layer["bias"])))
        })
    }
}

enum GoldenError: Error { case missing(String) }

func array(_ value: JSONValue?) throws -> [JSONValue] {
    guard let elements = value?.arrayValue else { throw GoldenError.missing("array") }
    return elements
}

func int(_ value: JSONValue?) throws -> Int {
    guard let number = value?.intValue else { throw GoldenError.missing("integer") }
    return number
}

func double(_ value: JSONValue?) throws -> Double {
    guard let number = value?.doubleValue else { throw GoldenError.missing("number") }
    return number
}

/// Float32 values read from their own text (the script writes the shortest
/// decimal that round-trips to the float), never through a Double.
func floats(_ value: JSONValue?) throws -> [Float] {
    try array(value).map { element in
        guard case let .number(text) = element, let number = Float(text) else { throw GoldenError.missing("float") }
        return number
    }
}
