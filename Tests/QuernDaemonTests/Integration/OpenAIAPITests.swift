import Foundation
import QuernTestSupport
import Testing

/// `--http-listen`: a real daemon on the default models, driven by the
/// official `openai` Python client (pinned by scripts/install-deps.sh) through
/// scripts/check-openai-api.py, which compares every endpoint with the
/// inbox's answer to the same request.
extension Integration {
    @Suite struct OpenAIAPI {
        /// The interpreter of the pinned client's virtual environment.
        static var python: String {
            ProcessInfo.processInfo.environment["QUERN_OPENAI_PYTHON"]
                ?? FileManager.default.homeDirectoryForCurrentUser.path + "/.cache/quern/venv-openai/bin/python"
        }

        /// `http://HOST:PORT` from the daemon's "http api" log line.
        static func address(in daemon: DaemonProcess, timeout: Double = 10) -> String? {
            let deadline = Date().addingTimeInterval(timeout)
            repeat {
                for line in daemon.log.split(separator: "\n") where line.contains("msg=\"http api\"") || line.contains("msg=http api") {
                    for field in line.split(separator: " ") where field.hasPrefix("http_listen=") {
                        return "http://" + field.dropFirst("http_listen=".count)
                    }
                }
                usleep(20_000)
            } while Date() < deadline
            return nil
        }

        @Test func theOfficialClientDrivesEveryEndpoint() throws {
            let models = TestPaths.models
            for model in ["smollm2-135m-instruct", "all-minilm-l6-v2", "whisper-tiny-en", "open-nsfw"] {
                try #require(FileManager.default.fileExists(atPath: models + "/" + model), "\(model) is missing: run scripts/fetch-models.sh")
            }
            try #require(FileManager.default.isExecutableFile(atPath: Self.python), "the pinned openai client is missing: run scripts/install-deps.sh")
            let corpus = try #require(WhisperTestCorpus.folder, "the speech corpus could not be generated (espeak-ng, sox)")
            let scratch = try Scratch()
            let keyFile = scratch.root.appendingPathComponent("api-key")
            try Data("test-key-\(UInt32.random(in: 0...UInt32.max))\n".utf8).write(to: keyFile)
            let key = try String(contentsOf: keyFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            let maxBytes = 8 << 20
            let daemon = try DaemonProcess(scratch: scratch, arguments: [
                "--models", models, "--settle", "0.1", "--http-listen", "127.0.0.1:0", "--api-key-file", keyFile.path,
                "--max-bytes", String(maxBytes),
            ], diagnostic: false)
            #expect(daemon.waitUntilServing(timeout: 120), "\(daemon.log)")
            let base = try #require(Self.address(in: daemon), "no http_listen in the log: \(daemon.log)")

            let (status, report) = try ChildProcess.run(Self.python, [
                TestPaths.inRepository("scripts/check-openai-api.py"), "--base-url", base + "/v1", "--api-key", key,
                "--inbox", scratch.inbox.path, "--outbox", scratch.outbox.path, "--speech", corpus + "/speech22_us_paragraph.wav",
                "--image", TestPaths.inRepository("Tests/QuernModelTests/Images/Corpus/good/gray1.png"), "--max-bytes", String(maxBytes),
            ])
            print(report)
            #expect(status == 0 && report.contains("all checks passed"), "\(report)\n\(daemon.log.suffix(4000))")

            // Every inbox result the script made is valid under the schema.
            #expect(try SchemaValidator.problems(in: [scratch.outbox.path]) == nil)
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 20) == 0)
        }
    }
}
