import Foundation
import QuernTestSupport
import Testing

extension Integration {
    /// `quern models …`, failing early on a bad models folder, models named
    /// as `quern models list` prints them, lazy loading and idle unloading.
    @Suite struct ModelManagement {
        static var models: String { TestPaths.models }

        static func hasModel(_ name: String) -> Bool {
            FileManager.default.fileExists(atPath: models + "/" + name + "/.quern-files.json")
        }

        /// A models folder holding symbolic links to the real models named.
        static func linkedModels(in scratch: Scratch, _ names: [String]) throws -> String {
            let folder = scratch.root.appendingPathComponent("models").path
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for name in names { try FileManager.default.createSymbolicLink(atPath: folder + "/" + name, withDestinationPath: models + "/" + name) }
            return folder
        }

        @Test func serveWithoutModelsExitsNamingTheFolder() throws {
            let scratch = try Scratch()
            let missing = scratch.root.appendingPathComponent("no-such-models").path
            let absent = try QuernInvocation.run(["serve", "--inbox", scratch.inbox.path, "--outbox", scratch.outbox.path, "--models", missing])
            #expect(absent.status == 1, "\(absent.standardError)")
            #expect(absent.standardError.contains(missing) && absent.standardError.contains("quern models fetch"), "\(absent.standardError)")

            let empty = scratch.root.appendingPathComponent("empty-models").path
            try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
            let none = try QuernInvocation.run(["serve", "--inbox", scratch.inbox.path, "--outbox", scratch.outbox.path, "--models", empty])
            #expect(none.status == 1, "\(none.standardError)")
            #expect(none.standardError.contains(empty) && none.standardError.contains("none of the default models"), "\(none.standardError)")

            let run = try QuernInvocation.run(["run", "--models", missing, "/dev/null"])
            #expect(run.status == 1 && run.standardError.contains(missing), "\(run.standardError)")

            // The diagnostic pipeline needs no models.
            let daemon = try DaemonProcess(scratch: scratch, arguments: ["--models", missing])
            #expect(daemon.waitUntilServing(), "\(daemon.log)")
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 10) == 0)
        }

        /// A flipped byte in a model file: `quern models verify` names the
        /// file (exit 1) and `quern serve` refuses to start with it.
        @Test func verifyAndStartUpDetectACorruptedFile() throws {
            guard Self.hasModel("open-nsfw") else { Issue.record("open-nsfw with its manifest is missing from \(Self.models): run scripts/fetch-models.sh"); return }
            let scratch = try Scratch()
            let folder = scratch.root.appendingPathComponent("models").path
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: Self.models + "/open-nsfw", toPath: folder + "/open-nsfw")
            let good = try QuernInvocation.run(["models", "verify", "--models", folder])
            #expect(good.status == 0, "\(good.standardOutput)\(good.standardError)")
            #expect(good.standardOutput.contains("open-nsfw: ok"))

            let weights = folder + "/open-nsfw/open-nsfw.onnx"
            let handle = try #require(FileHandle(forUpdatingAtPath: weights))
            try handle.seek(toOffset: 1_000_000)
            let byte = try #require(try handle.read(upToCount: 1)).first ?? 0
            try handle.seek(toOffset: 1_000_000)
            try handle.write(contentsOf: Data([byte ^ 0xFF]))
            try handle.close()

            let bad = try QuernInvocation.run(["models", "verify", "--models", folder])
            #expect(bad.status == 1, "\(bad.standardOutput)")
            #expect(bad.standardOutput.contains("DAMAGED \(weights): wrong sha256"), "\(bad.standardOutput)")
            let list = try QuernInvocation.run(["models", "list", "--models", folder, "--inbox", scratch.inbox.path])
            #expect(list.status == 0 && list.standardOutput.contains("verified: NO"), "\(list.standardOutput)\(list.standardError)")
            #expect(list.standardOutput.contains("loaded: unknown (daemon not running)"))

            let serve = try QuernInvocation.run(["serve", "--inbox", scratch.inbox.path, "--outbox", scratch.outbox.path, "--models", folder])
            #expect(serve.status == 1, "\(serve.standardError)")
            #expect(serve.standardError.contains(weights) && serve.standardError.contains("quern models fetch open-nsfw"), "\(serve.standardError)")
        }

        @Test func listShowsNamesTasksAndChecksums() throws {
            guard Self.hasModel("smollm2-135m-instruct") else { Issue.record("smollm2-135m-instruct is missing from \(Self.models): run scripts/fetch-models.sh"); return }
            let scratch = try Scratch()
            let folder = try Self.linkedModels(in: scratch, ["smollm2-135m-instruct", "imagenet-classes"])
            let list = try QuernInvocation.run(["models", "list", "--json", "--models", folder, "--inbox", scratch.inbox.path])
            #expect(list.status == 0, "\(list.standardError)")
            let document = try #require(try JSONSerialization.jsonObject(with: Data(list.standardOutput.utf8)) as? [String: Any])
            let rows = try #require(document["models"] as? [[String: Any]])
            #expect(rows.map { $0["name"] as? String } == ["imagenet-classes", "smollm2-135m-instruct"])
            let llm = rows[1]
            #expect(llm["tasks"] as? [String] == ["chat", "complete"])
            #expect(llm["sha256"] as? String == "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53")
            #expect(llm["verified"] as? String == "yes")
            #expect((llm["format"] as? String)?.contains("GGUF") == true)
            #expect(llm["loaded"] is NSNull, "no daemon: loaded is unknown")
            #expect(rows[0]["tasks"] as? [String] == [])
        }

        /// Offline install from a folder of wheels (the cache that
        /// scripts/fetch-models.sh fills); the result equals the installed model.
        @Test func fetchFromAFolderOfWheelsInstallsWithAManifest() throws {
            let cache = (ProcessInfo.processInfo.environment["QUERN_CACHE_DIR"] ?? (NSHomeDirectory() + "/.cache/quern")) + "/wheels"
            let wheels = (try? FileManager.default.contentsOfDirectory(atPath: cache)) ?? []
            guard wheels.contains(where: { $0.hasPrefix("open-nsfw-") && $0.hasSuffix(".whl") }) else {
                print("skipped: no cached open-nsfw wheel in \(cache) (scripts/fetch-models.sh caches it)")
                return
            }
            let scratch = try Scratch()
            let folder = scratch.root.appendingPathComponent("models").path
            let fetch = try QuernInvocation.run(["models", "fetch", "open-nsfw", "--from", cache, "--models", folder], timeout: 120)
            #expect(fetch.status == 0, "\(fetch.standardError)")
            #expect(fetch.standardError.contains("open-nsfw ready"), "\(fetch.standardError)")
            let installed = try Data(contentsOf: URL(fileURLWithPath: folder + "/open-nsfw/open-nsfw.onnx"))
            let original = try Data(contentsOf: URL(fileURLWithPath: Self.models + "/open-nsfw/open-nsfw.onnx"))
            #expect(installed == original)
            let verify = try QuernInvocation.run(["models", "verify", "--models", folder])
            #expect(verify.status == 0, "\(verify.standardOutput)")
            let again = try QuernInvocation.run(["models", "fetch", "open-nsfw", "--from", cache, "--models", folder])
            #expect(again.status == 0 && again.standardError.contains("up to date"), "\(again.standardError)")

            let unknown = try QuernInvocation.run(["models", "fetch", "no-such-model", "--models", folder])
            #expect(unknown.status != 0 && unknown.standardError.contains("smollm2-135m-instruct"), "\(unknown.standardError)")

            // By hand: any folder, with a manifest measured at install.
            let manual = try QuernInvocation.run(["models", "install", Self.models + "/open-nsfw", "--name", "my-nsfw", "--models", folder], timeout: 60)
            #expect(manual.status == 0, "\(manual.standardError)")
            let verifyManual = try QuernInvocation.run(["models", "verify", "my-nsfw", "--models", folder])
            #expect(verifyManual.status == 0 && verifyManual.standardOutput.contains("my-nsfw: ok"), "\(verifyManual.standardOutput)")
        }

        /// A chat request naming the model as `quern models list` does, or as
        /// earlier versions did, is answered; results carry the listed name.
        @Test func requestsNameModelsAsTheListDoes() throws {
            guard Self.hasModel("smollm2-135m-instruct") else { Issue.record("smollm2-135m-instruct is missing from \(Self.models): run scripts/fetch-models.sh"); return }
            let scratch = try Scratch()
            var files: [String] = []
            for (index, name) in ["smollm2-135m-instruct", "SmolLM2-135M-Instruct.Q4_1", "gpt-4"].enumerated() {
                let path = scratch.staging.appendingPathComponent("request-\(index).json").path
                try Data(#"{"task": "complete", "prompt": "One, two,", "max_tokens": 2, "model": "\#(name)"}"#.utf8).write(to: URL(fileURLWithPath: path))
                files.append(path)
            }
            let (exitStatus, lines) = try QuernBinary.run(["--models", Self.models] + files)
            #expect(exitStatus == 1, "the unknown model fails")
            try #require(lines.count == 3)
            let documents = try lines.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
            for document in documents.prefix(2) {
                #expect(status(document) == "ok", "\(document)")
                #expect((document["model"] as? [String: Any])?["name"] as? String == "smollm2-135m-instruct", "\(document)")
            }
            #expect(errorCode(documents[2]) == "request.invalid_value")
            #expect(((documents[2]["error"] as? [String: Any])?["message"] as? String)?.contains("smollm2-135m-instruct") == true)
        }

        /// Models load on their first file and unload after the idle time;
        /// `--preload` loads them at start.
        @Test func modelsLoadOnFirstUseAndUnloadWhenIdle() throws {
            guard Self.hasModel("all-minilm-l6-v2") else { Issue.record("all-minilm-l6-v2 is missing from \(Self.models): run scripts/fetch-models.sh"); return }
            let scratch = try Scratch()
            let folder = try Self.linkedModels(in: scratch, ["all-minilm-l6-v2"])
            let daemon = try DaemonProcess(scratch: scratch, arguments: ["--models", folder, "--model-idle-unload", "1", "--settle", "0.2"], diagnostic: false)
            #expect(daemon.waitUntilServing(timeout: 60), "\(daemon.log)")
            #expect(!daemon.log.contains("model loaded"), "nothing is loaded before the first file: \(daemon.log)")
            try scratch.drop("first.json", text: #"{"task": "embed", "input": "hello"}"#)
            #expect(scratch.waitUntil(timeout: 60) { scratch.resultCount == 1 }, "\(daemon.log)")
            #expect(daemon.log.contains("msg=\"model loaded\"") || daemon.log.contains("model loaded"), "\(daemon.log)")
            #expect(scratch.waitUntil(timeout: 15) { daemon.log.contains("model unloaded") }, "idle for 1 s: unloaded. \(daemon.log)")
            try scratch.drop("second.json", text: #"{"task": "embed", "input": "again", "model": "all-minilm-l6-v2"}"#)
            #expect(scratch.waitUntil(timeout: 60) { scratch.resultCount == 2 }, "\(daemon.log)")
            #expect(daemon.log.components(separatedBy: "model loaded").count - 1 == 2, "loaded again for the second file: \(daemon.log)")
            let results = try scratch.resultsByInput()
            #expect(status(results["second.json"]) == "ok", "\(String(describing: results["second.json"]))")
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 10) == 0)

            let preloaded = try Scratch()
            let eager = try DaemonProcess(scratch: preloaded, arguments: ["--models", folder, "--preload", "--model-idle-unload", "0"], diagnostic: false)
            #expect(eager.waitUntilServing(timeout: 60), "\(eager.log)")
            #expect(eager.log.contains("model loaded"), "--preload loads before serving: \(eager.log)")
            eager.signal(SIGTERM)
            #expect(eager.waitForExit(timeout: 10) == 0)
        }

        /// One budget for models and inputs: with room for only one of two
        /// models, loading the second unloads the idle first (least recently
        /// used, for the picture's input or for open_nsfw's weights) instead of
        /// exceeding --max-memory, and both files are answered.
        @Test func loadingAModelThatDoesNotFitUnloadsAnIdleOne() throws {
            guard Self.hasModel("all-minilm-l6-v2"), Self.hasModel("open-nsfw") else {
                Issue.record("all-minilm-l6-v2 and open-nsfw are needed in \(Self.models): run scripts/fetch-models.sh"); return
            }
            let scratch = try Scratch()
            let folder = try Self.linkedModels(in: scratch, ["all-minilm-l6-v2", "open-nsfw"])
            // About 40 MB of process + 87 MB of MiniLM weights fit 135M; adding open_nsfw's 22 MB does not.
            let daemon = try DaemonProcess(scratch: scratch, arguments: ["--models", folder, "--max-memory", "135M", "--settle", "0.2"], diagnostic: false)
            #expect(daemon.waitUntilServing(timeout: 60), "\(daemon.log)")
            try scratch.drop("sentence.json", text: #"{"task": "embed", "input": "hello"}"#)
            #expect(scratch.waitUntil(timeout: 60) { scratch.resultCount == 1 }, "\(daemon.log)")
            try scratch.drop("picture.png", Fixtures.png())
            #expect(scratch.waitUntil(timeout: 60) { scratch.resultCount == 2 }, "\(daemon.log)")
            #expect(daemon.log.contains("msg=\"model unloaded\" model=all-minilm-l6-v2 reason=\"memory budget"), "MiniLM is unloaded to make room: \(daemon.log)")
            let results = try scratch.resultsByInput()
            #expect(status(results["sentence.json"]) == "ok")
            #expect(status(results["picture.png"]) == "ok", "\(String(describing: results["picture.png"]))")
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 10) == 0)
        }
    }
}
