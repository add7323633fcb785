import Foundation
import QuernLearning
import QuernPipelines
import QuernTensor
import QuernTestSupport
import Testing

extension Integration {
    /// Heads through the real binary: a head in `models/heads/` shows up in
    /// the results of `quern run` and `quern serve` (installed while it runs,
    /// without a restart); a head for another feature model is refused and
    /// logged; `train` requests reach only allowed folders.
    @Suite struct HeadRun {
        /// A models folder holding only open_nsfw (linked), so only it loads.
        final class Models {
            let scratch: Scratch
            let folder: String
            var heads: String { folder + "/heads" }

            init() throws {
                try #require(FileManager.default.fileExists(atPath: ImageTestSupport.openNSFW), "open_nsfw is missing: run scripts/fetch-models.sh")
                scratch = try Scratch()
                folder = scratch.root.appendingPathComponent("models").path
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                try FileManager.default.createSymbolicLink(atPath: folder + "/open-nsfw", withDestinationPath: TestPaths.models + "/open-nsfw")
            }

            /// The SHA-256 results report for open_nsfw, as the fetch script recorded it.
            var openNSFWSHA256: String {
                get throws {
                    let text = try String(contentsOfFile: TestPaths.models + "/open-nsfw/open-nsfw.onnx.sha256", encoding: .utf8)
                    return String(text.prefix(64))
                }
            }

            /// A logistic head on the 1024 pooled features, with known weights.
            func photoHead(name: String, sha256: String, seed: Float = 1) throws -> HeadFile {
                let width = 1024, classes = ["indoor", "outdoor", "people"]
                let architecture = try HeadArchitecture(task: .classification, inputWidth: width, outputWidth: classes.count)
                let weights = (0..<classes.count * width).map { sin(Float($0) * 0.37 * seed) * 2 / Float(width).squareRoot() }
                let layer = try DenseLayer(weight: Tensor(vector: weights).reshaped([classes.count, width]), bias: Tensor(vector: [0.1, -0.2, 0.05]))
                let head = try Head(architecture: architecture, classes: classes,
                                    standardisation: Standardisation(mean: (0..<width).map { Float($0 % 3) * 0.01 }, std: (0..<width).map { 1 + Float($0 % 5) * 0.1 }),
                                    parameters: HeadParameters(layers: [layer]))
                let manifest = HeadManifest(
                    name: name, classes: classes, architecture: architecture,
                    featureModel: FeatureModel(name: "open-nsfw", sha256: sha256, kind: .image),
                    trainingData: TrainingData(sha256: String(repeating: "e", count: 64), examples: 9, classCounts: classes.map { ($0, 3) }),
                    quernVersion: "test", created: Date(timeIntervalSince1970: 1_780_000_000))
                return try HeadFile(head: head, manifest: manifest)
            }

            /// Installs the documented way: written under a hidden name, renamed into place.
            func install(_ head: HeadFile) throws {
                let hidden = heads + "/.\(head.manifest.name).part"
                try head.write(to: hidden)
                guard rename(hidden, heads + "/" + head.manifest.name) == 0 else { throw HarnessError("rename failed: \(errno)") }
            }
        }

        /// softmax(W·(x − mean)/std + b) in Double.
        static func probabilities(_ file: HeadFile, _ x: [Double]) -> [Double] {
            let head = file.head, layer = head.parameters.layers[0]
            let width = head.architecture.inputWidth
            let w = layer.weight.scalars, b = layer.bias.scalars
            let z = (0..<width).map { (x[$0] - Double(head.standardisation.mean[$0])) / Double(head.standardisation.std[$0]) }
            let logits = (0..<head.architecture.outputWidth).map { row in (0..<width).reduce(Double(b[row])) { $0 + Double(w[row * width + $1]) * z[$1] } }
            let top = logits.max() ?? 0
            let e = logits.map { exp($0 - top) }
            return e.map { $0 / e.reduce(0, +) }
        }

        static func json(_ line: String) throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not a JSON object: \(line)")
        }

        static func heads(_ document: [String: Any]) -> [String: Any]? { (document["result"] as? [String: Any])?["heads"] as? [String: Any] }

        @Test func runResultsCarryTheInstalledHeads() throws {
            let models = try Models()
            let sha = try models.openNSFWSHA256
            let photo = ImageTestSupport.corpus + "/good/photo-chelsea-rgb.png"
            let photos = try models.photoHead(name: "photos", sha256: sha)
            try FileManager.default.createDirectory(atPath: models.heads, withIntermediateDirectories: true)
            try models.install(photos)
            try models.install(try models.photoHead(name: "stale", sha256: String(repeating: "0", count: 64)))
            let requests = models.scratch.staging
            let base64 = try Data(contentsOf: URL(fileURLWithPath: photo)).base64EncodedString()
            try Data(#"{"task": "classify", "input": "\#(base64)", "heads": []}"#.utf8).write(to: requests.appendingPathComponent("none.json"))
            try Data(#"{"task": "classify", "input": "\#(base64)", "heads": ["stale"]}"#.utf8).write(to: requests.appendingPathComponent("stale.json"))

            let run = try QuernInvocation.run(["run", "--models", models.folder, photo, requests.appendingPathComponent("none.json").path,
                                               requests.appendingPathComponent("stale.json").path], timeout: 120)
            #expect(run.status == 1, "the request naming a refused head is an error: \(run.standardError)")
            let lines = run.standardOutput.split(separator: "\n").map(String.init)
            try #require(lines.count == 3, "\(run.standardOutput)\n\(run.standardError)")

            let document = try Self.json(lines[0])
            #expect((document["model"] as? [String: Any])?["sha256"] as? String == sha)
            let heads = try #require(Self.heads(document), "no heads in \(lines[0].prefix(300))")
            #expect(Array(heads.keys) == ["photos"], "the stale head never runs")
            let verdict = try #require(heads["photos"] as? [String: Any])
            let scores = try #require(verdict["scores"] as? [String: Double])
            let features = try #require((document["result"] as? [String: Any])?["embedding"] as? [Double])
            let expected = Self.probabilities(photos, features)
            for (index, name) in ["indoor", "outdoor", "people"].enumerated() {
                #expect(abs((scores[name] ?? -1) - expected[index]) < 1e-4, "\(name): \(scores[name] ?? -1) vs \(expected[index])")
            }
            #expect(verdict["label"] as? String == ["indoor", "outdoor", "people"][expected.indices.max { expected[$0] < expected[$1] } ?? 0])

            #expect(Self.heads(try Self.json(lines[1])) == nil, "\"heads\": [] runs none")
            let refused = try Self.json(lines[2])
            #expect(errorCode(refused) == "request.invalid_value")
            let message = (refused["error"] as? [String: Any])?["message"] as? String ?? ""
            #expect(message.contains("installed but refused") && message.contains(sha), "\(message)")

            #expect(run.standardError.contains("head refused") && run.standardError.contains("head=stale")
                    && run.standardError.contains(String(repeating: "0", count: 64)), "the refusal is logged at start-up: \(run.standardError)")
            #expect(run.standardError.contains("head loaded") && run.standardError.contains("head=photos"))

            let outbox = models.scratch.outbox
            for (index, line) in lines.enumerated() { try Data(line.utf8).write(to: outbox.appendingPathComponent("r\(index).json")) }
            #expect(try SchemaValidator.problems(in: [outbox.path]) == nil)
        }

        @Test func serveTakesUpHeadsWithoutARestart() throws {
            let models = try Models()
            let sha = try models.openNSFWSHA256
            try FileManager.default.createDirectory(atPath: models.heads, withIntermediateDirectories: true)
            let scratch = models.scratch
            let daemon = try DaemonProcess(scratch: scratch, arguments: ["--models", models.folder, "--settle", "0.2"], diagnostic: false)
            #expect(daemon.waitUntilServing(timeout: 60), "\(daemon.log)")
            let png = [UInt8](try Data(contentsOf: URL(fileURLWithPath: ImageTestSupport.corpus + "/good/photo-chelsea-rgb.png")))

            func result(_ name: String) throws -> [String: Any] {
                try scratch.drop(name, png)
                #expect(scratch.waitUntil(timeout: 60) { (try? scratch.resultsByInput())?[name] != nil }, "\(daemon.log)")
                return try #require(try scratch.resultsByInput()[name])
            }

            #expect(Self.heads(try result("before.png")) == nil)
            try models.install(try models.photoHead(name: "photos", sha256: sha))
            #expect(Self.heads(try result("installed.png"))?.keys.sorted() == ["photos"], "\(daemon.log)")
            try FileManager.default.removeItem(atPath: models.heads + "/photos")
            #expect(Self.heads(try result("removed.png")) == nil)
            #expect(daemon.log.contains("head loaded") && daemon.log.contains("head removed"))

            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 20) == 0)
            #expect(try SchemaValidator.problems(in: [scratch.outbox.path]) == nil)
        }

        @Test func trainRequestsReachOnlyAllowedFolders() throws {
            let scratch = try Scratch()
            let allowed = scratch.root.appendingPathComponent("datasets").path
            try FileManager.default.createDirectory(atPath: allowed + "/reviews", withIntermediateDirectories: true)
            try Data("text,label\n".utf8).write(to: URL(fileURLWithPath: allowed + "/reviews/train.csv"))
            try FileManager.default.createSymbolicLink(atPath: allowed + "/escape", withDestinationPath: "/etc")
            // An empty models folder (a missing one stops `quern run` before any file).
            let noModels = scratch.root.appendingPathComponent("no-models").path
            try FileManager.default.createDirectory(atPath: noModels, withIntermediateDirectories: true)
            func request(_ name: String, data: String) throws -> String {
                let path = scratch.staging.appendingPathComponent(name).path
                try Data(#"{"task": "train", "name": "sentiment-en", "data": "\#(data)", "epochs": 5}"#.utf8).write(to: URL(fileURLWithPath: path))
                return path
            }
            let files = [try request("inside.json", data: "reviews/train.csv"), try request("outside.json", data: "/etc/passwd"),
                         try request("dots.json", data: allowed + "/../../etc/passwd"), try request("link.json", data: allowed + "/escape/passwd")]

            let allowing = try QuernBinary.run(["--models", noModels, "--train-data-dir", allowed] + files)
            try #require(allowing.lines.count == 4)
            let documents = try allowing.lines.map(Self.json)
            // A refused request never got as far as its task (`task` is null), as for any invalid request.
            #expect(documents.map { $0["task"] as? String } == ["train", nil, nil, nil])
            #expect(errorCode(documents[0]) == "training.invalid_dataset", "inside: accepted, then refused for its empty table")
            #expect(((documents[0]["error"] as? [String: Any])?["message"] as? String)?.contains("train.csv") == true)
            for document in documents.dropFirst() {
                #expect(errorCode(document) == "request.forbidden_path")
                #expect(((document["error"] as? [String: Any])?["message"] as? String)?.contains(TrainingDataFolders.realPath(allowed) ?? "?") == true)
            }

            let refusing = try QuernBinary.run(["--models", noModels, files[0]])
            #expect(errorCode(try Self.json(refusing.lines.joined())) == "request.forbidden_path")

            let badFolder = try QuernInvocation.run(["run", "--train-data-dir", scratch.root.appendingPathComponent("missing").path, files[0]])
            #expect(badFolder.status == 1)
            #expect(badFolder.standardError.contains("--train-data-dir") && badFolder.standardError.contains("existing folders"), "\(badFolder.standardError)")
            let variable = try QuernInvocation.run(["run", "--models", noModels, files[0]], environment: ["QUERN_TRAIN_DATA_DIR": "/nonexistent:" + allowed])
            #expect(variable.status == 1 && variable.standardError.contains("QUERN_TRAIN_DATA_DIR"))
        }
    
        /// A `train` request dropped beside photos trains a head on their
        /// open_nsfw features, installs it in models/heads, and the next file
        /// of the same run already carries its verdict.
        @Test func aTrainRequestInstallsAHeadTheNextFileUses() throws {
            let models = try Models()
            let allowed = models.scratch.root.appendingPathComponent("datasets").path
            let cifar = TestPaths.datasets + "/cifar10-subset/train"
            for label in ["airplane", "frog"] {
                try FileManager.default.createDirectory(atPath: allowed + "/photos/" + label, withIntermediateDirectories: true)
                let names = try FileManager.default.contentsOfDirectory(atPath: cifar + "/" + label).sorted().prefix(10)
                for name in names { try FileManager.default.copyItem(atPath: cifar + "/" + label + "/" + name, toPath: allowed + "/photos/" + label + "/" + name) }
            }
            let request = models.scratch.staging.appendingPathComponent("train.json").path
            try Data(#"{"task": "train", "name": "planes", "data": "photos", "epochs": 30, "test_fraction": 0.3, "seed": 3}"#.utf8)
                .write(to: URL(fileURLWithPath: request))
            let frog = try FileManager.default.contentsOfDirectory(atPath: TestPaths.datasets + "/cifar10-subset/test/frog").sorted()[0]
            let photo = TestPaths.datasets + "/cifar10-subset/test/frog/" + frog

            let run = try QuernInvocation.run(["run", "--models", models.folder, "--train-data-dir", allowed, request, photo], timeout: 300)
            let lines = run.standardOutput.split(separator: "\n").map(String.init)
            try #require(lines.count == 2, "\(run.standardOutput)\n\(run.standardError)")
            let trained = try Self.json(lines[0])
            #expect(trained["status"] as? String == "ok", "\(lines[0].prefix(600))")
            let result = try #require(trained["result"] as? [String: Any])
            #expect(result["head"] as? String == "planes" && result["classes"] as? [String] == ["airplane", "frog"])
            let split = try #require(result["split"] as? [String: Any])
            #expect(split["test"] as? Int == 6, "30% of 20, by class")
            let evaluation = try #require(result["evaluation"] as? [String: Any])
            #expect((evaluation["accuracy"] as? Double ?? -1) >= 0.5)
            for file in ["head.json", "head.safetensors", "report.svg"] {
                #expect(FileManager.default.fileExists(atPath: models.heads + "/planes/" + file), "\(file) installed")
            }
            let installed = try HeadFile(folder: models.heads + "/planes")
            #expect(installed.manifest.featureModel.sha256 == (try models.openNSFWSHA256))
            #expect(installed.manifest.trainingData.examples == 20)

            let classified = try Self.json(lines[1])
            let verdict = try #require(Self.heads(classified)?["planes"] as? [String: Any], "the head is used at once: \(lines[1].prefix(400))")
            #expect(["airplane", "frog"].contains(verdict["label"] as? String ?? ""))
            let outbox = models.scratch.root.appendingPathComponent("results").path
            try FileManager.default.createDirectory(atPath: outbox, withIntermediateDirectories: true)
            for (index, line) in lines.enumerated() { try Data(line.utf8).write(to: URL(fileURLWithPath: outbox + "/\(index).json")) }
            #expect(try SchemaValidator.problems(in: [outbox]) == nil)
        }
    }
}
