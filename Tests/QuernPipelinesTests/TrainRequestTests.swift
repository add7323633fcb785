import Foundation
import QuernJSON
import QuernPipelines
import QuernTestSupport
import Testing

/// The `train` request's input side and the `heads` request field: fields
/// and hyper-parameters checked, and dataset paths resolved and confined to
/// the folders the operator allowed — `..`, symlinks and absolute paths
/// leading out are refused with `request.forbidden_path`.
@Suite struct TrainRequestTests {
    private func parse(_ text: String) throws(QuernError) -> Job { try RequestParser.parse(Array(text.utf8)) }

    private func failure(_ text: String) -> QuernError? { thrownError(QuernError.self) { _ = try parse(text) } }

    @Test func aTrainRequestKeepsItsFieldsAndCheckedHyperParameters() throws {
        let job = try parse("""
            {"task": "train", "data": "reviews/train.csv", "test": "reviews/test.csv", "name": "sentiment-en",
             "seed": 18446744073709551615, "epochs": 50, "head": "mlp", "hidden": 64, "learning_rate": 1e-3, "batch_size": 32}
            """)
        guard case let .train(request) = job.request else { Issue.record("not a train request"); return }
        #expect(job.request.task == .train)
        #expect(request.data == "reviews/train.csv" && request.test == "reviews/test.csv" && request.name == "sentiment-en")
        // In the table's order, each as written (the seed exactly).
        #expect(request.hyperParameters == .object([
            ("head", .string("mlp")), ("hidden", .int(64)), ("epochs", .int(50)), ("batch_size", .int(32)),
            ("learning_rate", .number("1e-3")), ("seed", .number("18446744073709551615")),
        ]))
        let minimal = try parse(#"{"task": "train", "data": "/data/x", "name": "x"}"#)
        #expect(minimal.request == .train(TrainingRequest(data: "/data/x", name: "x")))
    }

    @Test(arguments: [
        (#"{"task": "train", "name": "x"}"#, ErrorCode.requestMissingField, "\"data\""),
        (#"{"task": "train", "data": "d"}"#, .requestMissingField, "\"name\""),
        (#"{"task": "train", "data": "d", "name": "../x"}"#, .requestInvalidValue, "must start with a letter or a digit"),
        (#"{"task": "train", "data": "d", "name": "a/b"}"#, .requestInvalidValue, "field \"name\""),
        (#"{"task": "train", "data": "", "name": "x"}"#, .requestInvalidValue, "field \"data\" must be a path"),
        (#"{"task": "train", "data": "d", "name": "x", "epochs": 0}"#, .requestInvalidValue, "\"epochs\" must be between 1 and 100000"),
        (#"{"task": "train", "data": "d", "name": "x", "epochs": 2.5}"#, .requestWrongType, "\"epochs\" must be an integer"),
        (#"{"task": "train", "data": "d", "name": "x", "learning_rate": 0}"#, .requestInvalidValue, "above 0"),
        (#"{"task": "train", "data": "d", "name": "x", "head": "forest"}"#, .requestInvalidValue, "one of: logistic, mlp"),
        (#"{"task": "train", "data": "d", "name": "x", "hidden": 8}"#, .requestInvalidValue, "\"head\": \"mlp\""),
        (#"{"task": "train", "data": "d", "name": "x", "seed": -1}"#, .requestInvalidValue, "\"seed\""),
        (#"{"task": "train", "data": "d", "name": "x", "learning_rte": 0.1}"#, .requestUnknownField, "did you mean \"learning_rate\""),
        (#"{"task": "train", "data": "d", "name": "x", "colour": 0.9, "flavour": 0.1}"#, .requestUnknownField, "unknown fields \"colour\", \"flavour\""),
        (#"{"task": "train", "data": "d", "name": "x", "model": "m"}"#, .requestFieldNotApplicable, "\"model\" does not apply to task \"train\""),
        (#"{"task": "embed", "input": "x", "epochs": 3}"#, .requestFieldNotApplicable, "\"epochs\" does not apply to task \"embed\""),
        (#"{"task": "embed", "input": "x", "heads": "sentiment"}"#, .requestWrongType, "\"heads\" must be a list of head names"),
        (#"{"task": "embed", "input": "x", "heads": ["a", "a"]}"#, .requestInvalidValue, "\"a\" is listed twice"),
        (#"{"task": "embed", "input": "x", "heads": [""]}"#, .requestInvalidValue, "heads[0]"),
        (#"{"task": "embed", "input": "x", "heads": [3]}"#, .requestWrongType, "heads[0]"),
        (#"{"task": "chat", "messages": [{"role": "user", "content": "x"}], "heads": []}"#, .requestFieldNotApplicable, "\"heads\" does not apply"),
    ])
    func refusesNamingTheField(text: String, code: ErrorCode, fragment: String) {
        let error = failure(text)
        #expect(error?.code == code, "\(text) → \(String(describing: error))")
        #expect(error?.message.contains(fragment) == true, "\(String(describing: error?.message)) lacks \(fragment)")
    }

    @Test func theHeadsFieldPicksHeads() throws {
        #expect(try parse(#"{"task": "embed", "input": "x"}"#).heads == nil)
        #expect(try parse(#"{"task": "embed", "input": "x", "heads": null}"#).heads == nil)
        #expect(try parse(#"{"task": "embed", "input": "x", "heads": []}"#).heads == [])
        #expect(try parse(#"{"task": "classify", "input": "iVBORw0KGgo=", "heads": ["photos", "nsfw-2"]}"#).heads == ["photos", "nsfw-2"])
        #expect(try parse(#"{"task": "transcribe", "input": "AAAA", "heads": ["digits"]}"#).heads == ["digits"])
    }

    // MARK: Paths

    /// allowed/{data/train.csv, link-out → outside, link-in → data}, outside/secret.csv.
    final class Tree {
        let root: String
        let allowed: String
        let outside: String

        init() throws {
            root = try SafetensorsWriter.folder()
            allowed = root + "/allowed"
            outside = root + "/outside"
            for folder in [allowed + "/data", outside] { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
            for file in [allowed + "/data/train.csv", outside + "/secret.csv"] { try Data("text,label\n".utf8).write(to: URL(fileURLWithPath: file)) }
            try FileManager.default.createSymbolicLink(atPath: allowed + "/link-out", withDestinationPath: outside)
            try FileManager.default.createSymbolicLink(atPath: allowed + "/link-in", withDestinationPath: allowed + "/data")
        }

        deinit { try? FileManager.default.removeItem(atPath: root) }

        var folders: TrainingDataFolders { TrainingDataFolders(realPaths: [TrainingDataFolders.realPath(allowed) ?? allowed]) }

        func inspect(_ request: String, folders: TrainingDataFolders? = nil) -> Result<Job, QuernError> {
            InputInspector(limits: InputLimits(), trainingData: folders ?? self.folders).inspect(name: Array("t.json".utf8), bytes: Array(request.utf8)).outcome
        }

        func request(data: String, test: String? = nil) -> String {
            let encoded = { (text: String) in JSONWriter.string(.string(text), style: .compact) }
            return "{\"task\": \"train\", \"name\": \"h\", \"data\": \(encoded(data))" + (test.map { ", \"test\": \(encoded($0))" } ?? "") + "}"
        }
    }

    @Test func pathsInsideAnAllowedFolderResolveToTheirRealPaths() throws {
        let tree = try Tree()
        let real = try #require(TrainingDataFolders.realPath(tree.allowed))
        for (given, resolved) in [
            (tree.allowed + "/data/train.csv", real + "/data/train.csv"),
            ("data/train.csv", real + "/data/train.csv"),  // relative to the first allowed folder
            (tree.allowed + "/data/../data/./train.csv", real + "/data/train.csv"),
            (tree.allowed + "/link-in/train.csv", real + "/data/train.csv"),  // a symlink that stays inside
            (tree.allowed + "/data", real + "/data"),
            (tree.allowed, real),
        ] {
            let job = try tree.inspect(tree.request(data: given, test: given)).get()
            #expect(job.request == .train(TrainingRequest(data: resolved, test: resolved, name: "h")), "\(given)")
        }
    }

    @Test func pathsLeadingOutAreForbidden() throws {
        let tree = try Tree()
        for given in [
            tree.outside + "/secret.csv",
            tree.allowed + "/../outside/secret.csv",
            "../outside/secret.csv",
            tree.allowed + "/link-out/secret.csv",  // a symlink inside pointing out
            tree.allowed + "/link-out",
            "/etc/passwd",
            tree.allowed + "/../outside/missing.csv",  // outside and missing: still forbidden, not "does not exist"
            tree.allowed + "x/data",  // a sibling sharing the prefix
        ] {
            let error = tree.inspect(tree.request(data: given)).failure
            #expect(error?.code == .requestForbiddenPath, "\(given) → \(String(describing: error))")
            #expect(error?.message.contains("field \"data\"") == true)
            #expect(error?.message.contains(TrainingDataFolders.realPath(tree.allowed) ?? "?") == true, "names the allowed folders")
        }
        let test = tree.inspect(tree.request(data: "data/train.csv", test: "/etc/passwd")).failure
        #expect(test?.code == .requestForbiddenPath && test?.message.contains("field \"test\"") == true)
        let missing = tree.inspect(tree.request(data: "data/missing.csv")).failure
        #expect(missing?.code == .requestInvalidValue && missing?.message.contains("does not exist") == true)
    }

    @Test func withoutAnAllowedFolderEveryTrainRequestIsRefused() throws {
        let tree = try Tree()
        let error = tree.inspect(tree.request(data: tree.allowed + "/data/train.csv"), folders: TrainingDataFolders()).failure
        #expect(error?.code == .requestForbiddenPath)
        #expect(error?.message.contains("--train-data-dir") == true && error?.message.contains("QUERN_TRAIN_DATA_DIR") == true)
    }

    @Test func withoutAnAllowedFolderTrainingIsUnavailableAndSaysHowToAllowOne() throws {
        let registry = try PipelineCatalog.makeRegistry(PipelineCatalog.Options(modelsDirectory: "/nonexistent/models"))
        let error = registry.missingPipeline(for: .train)
        #expect(error.code == .unsupported)
        #expect(error.message.contains("--train-data-dir"))
        let allowing = try PipelineCatalog.makeRegistry(PipelineCatalog.Options(
            modelsDirectory: "/nonexistent/models", trainingData: TrainingDataFolders(realPaths: ["/tmp"])))
        #expect(allowing.pipeline(for: .train) != nil)
    }
}

extension Result {
    var failure: Failure? {
        if case let .failure(error) = self { return error }
        return nil
    }
}
