import Foundation
import Logging
import QuernLearning
import QuernPipelines
import QuernTensor
import QuernTestSupport
import Synchronization

/// Heads with known weights, made without training, and the probabilities
/// they must give, computed here in Double without the tensor core.
enum HeadFixtures {
    /// A logistic head on `width` features: weights and standardisation from
    /// smooth functions of the indices, different for each `seed`.
    static func logistic(name: String, width: Int, kind: FeatureKind, model: ModelIdentity, classes: [String] = ["left", "right"],
                         seed: Float = 1, hidden: Int? = nil) throws -> HeadFile {
        let outputs = classes.count
        let architecture = try HeadArchitecture(task: .classification, inputWidth: width, hiddenWidth: hidden, outputWidth: outputs)
        var layers: [DenseLayer] = []
        for (index, shape) in architecture.layerShapes.enumerated() {
            // Logits of order one for vectors of order one, whatever the width.
            let scale = 2 / Float(shape.input).squareRoot()
            let weights = (0..<shape.output * shape.input).map { sin(Float($0) * 0.37 * seed + Float(index)) * scale }
            let biases = (0..<shape.output).map { cos(Float($0) * seed) * 0.1 }
            layers.append(try DenseLayer(weight: Tensor(vector: weights).reshaped([shape.output, shape.input]), bias: Tensor(vector: biases)))
        }
        let standardisation = try Standardisation(mean: (0..<width).map { cos(Float($0)) * 0.01 }, std: (0..<width).map { 0.5 + Float($0 % 7) * 0.1 })
        let head = try Head(architecture: architecture, classes: classes, standardisation: standardisation, parameters: HeadParameters(layers: layers))
        return try HeadFile(head: head, manifest: manifest(name: name, head: head, kind: kind, model: model))
    }

    /// A linear regression head on `width` features.
    static func regression(name: String, width: Int, kind: FeatureKind, model: ModelIdentity) throws -> HeadFile {
        let architecture = try HeadArchitecture(task: .regression, inputWidth: width, outputWidth: 1)
        let layer = try DenseLayer(weight: Tensor(vector: (0..<width).map { Float($0 % 5) * 0.01 }).reshaped([1, width]), bias: Tensor(vector: [3]))
        let head = try Head(architecture: architecture, classes: [], standardisation: Standardisation(mean: Array(repeating: 0, count: width),
                                                                                                        std: Array(repeating: 1, count: width)),
                            parameters: HeadParameters(layers: [layer]))
        return try HeadFile(head: head, manifest: manifest(name: name, head: head, kind: kind, model: model))
    }

    static func manifest(name: String, head: Head, kind: FeatureKind, model: ModelIdentity) -> HeadManifest {
        HeadManifest(
            name: name, classes: head.classes, architecture: head.architecture,
            featureModel: FeatureModel(name: model.name, sha256: model.weightsSHA256 ?? String(repeating: "0", count: 64), kind: kind),
            trainingData: TrainingData(sha256: String(repeating: "e", count: 64), examples: 10, classCounts: head.classes.map { ($0, 5) }),
            quernVersion: "test", created: Date(timeIntervalSince1970: 1_780_000_000))
    }

    /// What a logistic head must say about `vector`: softmax(W·(x − mean)/std + b), in Double.
    static func expectedProbabilities(_ file: HeadFile, _ vector: [Float]) -> [Double] {
        let head = file.head
        let layer = head.parameters.layers[0]
        let width = head.architecture.inputWidth
        let weights = layer.weight.scalars, biases = layer.bias.scalars
        let z = (0..<width).map { (Double(vector[$0]) - Double(head.standardisation.mean[$0])) / Double(head.standardisation.std[$0]) }
        let logits = (0..<head.architecture.outputWidth).map { row in
            (0..<width).reduce(Double(biases[row])) { $0 + Double(weights[row * width + $1]) * z[$1] }
        }
        let top = logits.max() ?? 0
        let exponentials = logits.map { exp($0 - top) }
        let total = exponentials.reduce(0, +)
        return exponentials.map { $0 / total }
    }

    /// A fresh, empty heads folder.
    static func library() throws -> String {
        let folder = try SafetensorsWriter.folder() + "/heads"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder
    }

    static func sha(_ digit: Character) -> String { String(repeating: digit, count: 64) }
}

/// Log lines kept in memory, to check what the head library says.
final class CollectedLog: Sendable {
    private let lines = Mutex<[String]>([])

    var all: [String] { lines.withLock { $0 } }

    var logger: Logger {
        Logger(label: "test") { _ in Handler(log: self) }
    }

    func append(_ line: String) { lines.withLock { $0.append(line) } }

    struct Handler: LogHandler {
        let log: CollectedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
            let details = (metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            log.append("\(level) \(message) \(details)")
        }
    }
}
