import Foundation
import QuernFormats
import QuernJSON
import QuernLearning
import QuernTensor
import QuernTestSupport
import Testing

/// Heads as files: what is written reads back exactly, and a head folder
/// that is broken in any way is refused with `learning.invalid_head` naming
/// the file and what is wrong.
@Suite struct HeadFileTests {
    static let sha = String(repeating: "ab", count: 32)

    /// A head with distinct, known values everywhere.
    static func head(task: HeadTask = .classification, width: Int = 3, hidden: Int? = nil, activation: HeadActivation = .relu,
                     classes: [String] = ["negative", "neutral", "positive"]) throws -> Head {
        let outputs = task == .classification ? classes.count : 1
        let architecture = try HeadArchitecture(task: task, inputWidth: width, hiddenWidth: hidden, activation: activation, outputWidth: outputs)
        var layers: [DenseLayer] = []
        for (index, shape) in architecture.layerShapes.enumerated() {
            let weights = (0..<shape.output * shape.input).map { Float(index + 1) * 0.25 - Float($0) * 0.125 }
            layers.append(try DenseLayer(weight: Tensor(vector: weights).reshaped([shape.output, shape.input]),
                                         bias: Tensor(vector: (0..<shape.output).map { Float($0) * 0.5 - 0.25 })))
        }
        return try Head(architecture: architecture, classes: task == .classification ? classes : [],
                        standardisation: Standardisation(mean: (0..<width).map { Float($0) * 0.1 }, std: (0..<width).map { 1 + Float($0) }),
                        parameters: HeadParameters(layers: layers))
    }

    static func manifest(for head: Head, name: String = "sentiment-en") -> HeadManifest {
        HeadManifest(
            name: name, classes: head.classes, architecture: head.architecture,
            hyperParameters: .object([("head", .string(head.architecture.kindName)), ("epochs", .int(50)), ("learning_rate", .number("0.001"))]),
            featureModel: FeatureModel(name: "all-minilm-l6-v2", sha256: sha, kind: .text, variant: "windows"),
            trainingData: TrainingData(sha256: String(repeating: "cd", count: 32), examples: 12,
                                       classCounts: head.classes.enumerated().map { ($1, $0 + 3) }),
            metrics: .object([("accuracy", .number("0.75")), ("per_class", .object([("negative", .object([("f1", .number("0.5"))]))]))]),
            history: [EpochRecord(epoch: 1, trainLoss: 0.9, validationLoss: 1.1, trainAccuracy: 0.5, validationAccuracy: nil, learningRate: 0.001),
                      EpochRecord(epoch: 2, trainLoss: 0.5, learningRate: 0.0005)],
            quernVersion: "0.1.0", created: Date(timeIntervalSince1970: 1_780_000_000))
    }

    static func folder() throws -> String { try SafetensorsWriter.folder() + "/heads" }

    func failure(_ folder: String) -> LearningError? { thrownError(LearningError.self) { _ = try HeadFile(folder: folder) } }

    @Test(arguments: [(HeadTask.classification, Int?.none), (.classification, 4), (.regression, nil), (.regression, 2)])
    func writtenHeadsReadBackExactly(task: HeadTask, hidden: Int?) throws {
        // A head without a hidden layer has no activation to store.
        let head = try Self.head(task: task, hidden: hidden, activation: hidden == nil ? .relu : .gelu)
        let written = try HeadFile(head: head, manifest: Self.manifest(for: head))
        let library = try Self.folder()
        let folder = try written.install(in: library, extraFiles: [("report.svg", Array("<svg/>".utf8))])
        #expect(folder == library + "/sentiment-en")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == ["head.json", "head.safetensors", "report.svg"])

        let read = try HeadFile(folder: folder)
        #expect(read.manifest == written.manifest)
        #expect(read.head.architecture == head.architecture)
        #expect(read.head.classes == head.classes)
        #expect(read.head.standardisation == head.standardisation)
        for (a, b) in zip(read.head.parameters.layers, head.parameters.layers) {
            #expect(a.weight.shape == b.weight.shape && a.weight.scalars == b.weight.scalars && a.bias.scalars == b.bias.scalars)
        }
        let features: [[Float]] = [[0.5, -1, 2], [3, 0, -0.25]]
        #expect(try read.head.predictions(features) == head.predictions(features))

        let weights = try SafetensorsFile(path: folder + "/head.safetensors")
        #expect(weights.tensors.map(\.name) == HeadFile.tensorNames(for: head.architecture))
        #expect(weights.metadata["format"] == "quern-head")
        let json = try String(contentsOfFile: folder + "/head.json", encoding: .utf8)
        #expect(json.contains("\"format_version\": 1") && json.contains("\"created\": \"2026-05-28T20:26:40Z\""))
        #expect(json.contains(hidden == nil ? "\"activation\": null" : "\"activation\": \"gelu\""))
    }

    @Test func aSecondWriteReplacesTheHeadWhole() throws {
        let library = try Self.folder()
        let first = try Self.head()
        try HeadFile(head: first, manifest: Self.manifest(for: first)).install(in: library, extraFiles: [("report.svg", [0x3C])])
        let second = try Self.head(hidden: 2)
        try HeadFile(head: second, manifest: Self.manifest(for: second)).install(in: library)
        #expect(try FileManager.default.contentsOfDirectory(atPath: library) == ["sentiment-en"], "no hidden leftovers")
        #expect(try FileManager.default.contentsOfDirectory(atPath: library + "/sentiment-en").sorted() == ["head.json", "head.safetensors"])
        #expect(try HeadFile(folder: library + "/sentiment-en").head.architecture.hiddenWidth == 2)
    }

    @Test func refusesHeadAndManifestThatDisagree() throws {
        let head = try Self.head()
        var manifest = Self.manifest(for: head)
        manifest.classes = ["a", "b", "c"]
        #expect(thrownError(LearningError.self) { _ = try HeadFile(head: head, manifest: manifest) }?.code == "learning.invalid_head")
        manifest = Self.manifest(for: head, name: "../escape")
        #expect(thrownError(LearningError.self) { _ = try HeadFile(head: head, manifest: manifest) }?.code == "learning.invalid_parameter")
        let extra = thrownError(LearningError.self) {
            try HeadFile(head: head, manifest: Self.manifest(for: head)).write(to: try Self.folder() + "/x", extraFiles: [("../x", [])])
        }
        #expect(extra?.code == "learning.invalid_parameter")
    }

    // MARK: Hostile folders

    /// A good head folder, then `damage` applied to it; the error it gets.
    func damaged(hidden: Int? = nil, _ damage: (String) throws -> Void) throws -> LearningError? {
        let head = try Self.head(hidden: hidden)
        let folder = try HeadFile(head: head, manifest: Self.manifest(for: head)).install(in: try Self.folder())
        try damage(folder)
        return failure(folder)
    }

    /// Rewrites head.json through `edit` on its parsed members.
    func editManifest(_ folder: String, _ edit: (inout [(key: String, value: JSONValue)]) -> Void) throws {
        let path = folder + "/head.json"
        guard case var .object(members) = try JSONParser.parse([UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))) else {
            throw HarnessError("head.json is not an object")
        }
        edit(&members)
        try Data(JSONWriter.bytes(.object(members), style: .pretty)).write(to: URL(fileURLWithPath: path))
    }

    func set(_ key: String, _ value: JSONValue) -> (inout [(key: String, value: JSONValue)]) -> Void {
        { members in
            if let index = members.firstIndex(where: { $0.key == key }) { members[index].value = value } else { members.append((key, value)) }
        }
    }

    /// Rewrites head.safetensors with `tensors` instead of the real ones.
    func replaceWeights(_ folder: String, _ tensors: [SafetensorsWriter.Entry]) throws {
        try SafetensorsWriter.write(SafetensorsWriter.file(tensors), to: folder + "/head.safetensors")
    }

    func good(_ name: String, _ shape: [Int]) -> SafetensorsWriter.Entry {
        SafetensorsWriter.Entry(name: name, dtype: "F32", shape: shape, bytes: SafetensorsWriter.floats((0..<shape.reduce(1, *)).map { Float($0) + 1 }))
    }

    /// The tensors of the default logistic head (3 inputs, 3 classes).
    var logisticTensors: [SafetensorsWriter.Entry] {
        [good("layers.0.weight", [3, 3]), good("layers.0.bias", [3]), good("standardisation.mean", [3]), good("standardisation.std", [3])]
    }

    func expect(_ error: LearningError?, _ fragments: [String], code: String = "learning.invalid_head", sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(error?.code == code, "\(String(describing: error))", sourceLocation: sourceLocation)
        for fragment in fragments {
            #expect(error?.message.contains(fragment) == true, "\(String(describing: error?.message)) lacks \(fragment)", sourceLocation: sourceLocation)
        }
    }

    @Test func missingFilesAreNamed() throws {
        expect(try damaged { try FileManager.default.removeItem(atPath: $0 + "/head.json") }, ["has no head.json"])
        expect(try damaged { try FileManager.default.removeItem(atPath: $0 + "/head.safetensors") }, ["head.safetensors is missing"])
        expect(try damaged { try Data("{".utf8).write(to: URL(fileURLWithPath: $0 + "/head.json")) }, ["head.json: not valid JSON"])
        expect(try damaged { try Data([1, 2, 3]).write(to: URL(fileURLWithPath: $0 + "/head.safetensors")) }, ["head.safetensors"])
    }

    @Test func anotherFormatVersionIsRefusedForWhatItIs() throws {
        expect(try damaged { try editManifest($0, set("format_version", .int(2))) }, ["format_version", "version 2", "reads version 1 only"])
        // Checked before anything else: a newer head's new keys are not the complaint.
        expect(try damaged { try editManifest($0) { members in
            set("format_version", .int(3))(&members)
            members.append(("layers_v3", .int(1)))
        } }, ["version 3"])
        expect(try damaged { try editManifest($0, set("format", .string("onnx"))) }, ["not a Quern head"])
    }

    @Test func everyManifestValueIsChecked() throws {
        let cases: [(String, JSONValue, [String])] = [
            ("task", .string("ranking"), ["task: unknown value \"ranking\"", "classification, regression"]),
            ("task", .string("regression"), ["a regression head has no classes"]),
            ("name", .string("../../etc"), ["name:", "must start with a letter or a digit"]),
            ("classes", .array([.string("a"), .string("a"), .string("b")]), ["classes[1]", "listed twice"]),
            ("classes", .array([.string("a"), .string("b")]), ["output_width", "3 outputs but 2 classes"]),
            ("architecture", .object([("kind", .string("mlp")), ("input_width", .int(3)), ("hidden_width", .null),
                                      ("activation", .null), ("output_width", .int(3))]), ["architecture.kind", "\"logistic\""]),
            ("architecture", .object([("kind", .string("logistic")), ("input_width", .number("2.5")), ("output_width", .int(3))]),
             ["architecture.input_width", "whole number"]),
            ("architecture", .object([("kind", .string("logistic")), ("input_width", .int(3)), ("output_width", .int(3)), ("dropout", .number("0.1"))]),
             ["unknown key \"dropout\""]),
            ("feature_model", .object([("name", .string("m")), ("sha256", .string("XYZ")), ("kind", .string("text"))]), ["feature_model.sha256", "64 lowercase hex"]),
            ("feature_model", .object([("name", .string("m")), ("sha256", .string(Self.sha)), ("kind", .string("video"))]), ["feature_model.kind", "text, image, audio"]),
            ("training_data", .object([("sha256", .string(Self.sha)), ("examples", .int(0)), ("class_counts", .object([]))]), ["training_data.examples"]),
            ("training_data", .object([("sha256", .string(Self.sha)), ("examples", .int(5)), ("class_counts", .object([("cat", .int(5))]))]),
             ["training_data.class_counts.cat", "not one of the head's classes"]),
            ("metrics", .array([]), ["metrics: expected an object"]),
            ("created", .string("yesterday"), ["created", "RFC 3339"]),
            ("created", .string("2026-05-01T12:00:00+02:00"), ["created"]),
            ("extra", .int(1), ["unknown key \"extra\""]),
            ("history", .array([.object([("epoch", .int(1)), ("train_loss", .string("low")), ("learning_rate", .int(1))])]), ["history[0].train_loss"]),
        ]
        for (key, value, fragments) in cases {
            expect(try damaged { try editManifest($0, set(key, value)) }, ["head.json"] + fragments)
        }
        expect(try damaged { try editManifest($0) { $0.removeAll { $0.key == "feature_model" } } }, ["feature_model: missing"])
    }

    @Test func everyTensorIsChecked() throws {
        var tensors = logisticTensors
        tensors.removeLast()
        expect(try damaged { try replaceWeights($0, tensors) }, ["head.safetensors", "standardisation.std is missing"])
        expect(try damaged { try replaceWeights($0, logisticTensors + [good("layers.1.weight", [3, 3])]) }, ["unexpected tensor layers.1.weight"])
        tensors = logisticTensors
        tensors[0] = good("layers.0.weight", [2, 3])
        expect(try damaged { try replaceWeights($0, tensors) }, ["layers.0.weight has shape [2, 3]", "[3, 3]"])
        tensors = logisticTensors
        tensors[1] = SafetensorsWriter.Entry(name: "layers.0.bias", dtype: "F32", shape: [3], bytes: SafetensorsWriter.floats([0, .nan, 0]))
        expect(try damaged { try replaceWeights($0, tensors) }, ["layers.0.bias holds nan at index 1", "finite"])
        tensors = logisticTensors
        tensors[3] = SafetensorsWriter.Entry(name: "standardisation.std", dtype: "F32", shape: [3], bytes: SafetensorsWriter.floats([1, 0, 1]))
        expect(try damaged { try replaceWeights($0, tensors) }, ["std > 0"])
        tensors = logisticTensors
        tensors[2] = SafetensorsWriter.Entry(name: "standardisation.mean", dtype: "F16", shape: [3], bytes: [0, 0, 0, 0, 0, 0])
        expect(try damaged { try replaceWeights($0, tensors) }, ["standardisation.mean is F16", "F32"])
        // An MLP missing its second layer.
        expect(try damaged(hidden: 4) { try replaceWeights($0, [good("layers.0.weight", [4, 3]), good("layers.0.bias", [4]),
                                                               good("standardisation.mean", [3]), good("standardisation.std", [3])]) },
               ["layers.1.weight is missing"])
    }

    @Test func headNamesAreSafeFolderNames() {
        for name in ["sentiment-en", "topics_20ng", "v1.2", "A", String(repeating: "x", count: 64)] {
            #expect(HeadName.problem(with: name) == nil, "\(name)")
        }
        for name in ["", ".hidden", "..", "-rf", "a/b", "a b", "é", "x\0", String(repeating: "x", count: 65)] {
            #expect(HeadName.problem(with: name) != nil, "\(name)")
        }
    }
}
