import Foundation
import QuernLearning
import QuernTestSupport
import Testing

extension Integration {
    /// The committed default heads are what scripts/train-default-heads.sh
    /// trains from the pinned data, and fetch-models.sh installs them.
    /// sentiment-en is retrained here (10,568 MiniLM embeddings, a few
    /// minutes); topics-20ng's 18,821 long documents take too long for the
    /// suite: run `scripts/train-default-heads.sh --check` for it.
    @Suite struct DefaultHeads {
        @Test func theScriptReproducesTheCommittedSentimentHead() throws {
            let datasets = (ProcessInfo.processInfo.environment["QUERN_CACHE_DIR"] ?? NSHomeDirectory() + "/.cache/quern") + "/datasets/vader-movies.jsonl"
            try #require(FileManager.default.fileExists(atPath: datasets), "run scripts/fetch-datasets.sh (scripts/test.sh does)")
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = [TestPaths.repository + "/scripts/train-default-heads.sh", "--check", "sentiment-en"]
            var environment = ProcessInfo.processInfo.environment
            environment["QUERN_BINARY"] = try QuernBinary.path
            environment["QUERN_MODELS"] = TestPaths.models
            process.environment = environment
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "\(text)")
            #expect(text.contains("sentiment-en: reproduced"), "\(text)")
        }

        @Test func theCommittedHeadsAreValidAndInstalled() throws {
            for name in ["sentiment-en", "topics-20ng"] {
                let committed = try HeadFile(folder: TestPaths.repository + "/heads/" + name)
                #expect(committed.manifest.featureModel.name == "all-minilm-l6-v2")
                #expect(committed.manifest.featureModel.variant == "text-windows")
                let installed = try HeadFile(folder: TestPaths.models + "/heads/" + name)
                #expect(installed.manifest.json == committed.manifest.json, "fetch-models.sh installs the committed \(name)")
            }
        }
    }
}
