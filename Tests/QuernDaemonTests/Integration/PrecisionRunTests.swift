import Foundation
import QuernTestSupport
import Testing

extension Integration {
    /// The precision choice through the real binary: a request's
    /// `"precision"` and `--precision TASK=PRECISION` pick the form of the
    /// model that runs, the result's `model` says which ran, and a value
    /// outside float32/bfloat16 is an error naming the field.
    @Suite struct PrecisionRun {
        static func classification(_ line: String) throws -> (precision: String?, scores: [String: Double]) {
            let document = try HeadRun.json(line)
            let model = try #require(document["model"] as? [String: Any], "no model in \(line.prefix(300))")
            let labels = (document["result"] as? [String: Any])?["labels"] as? [[String: Any]] ?? []
            var scores: [String: Double] = [:]
            for label in labels { if let name = label["label"] as? String, let score = label["score"] as? Double { scores[name] = score } }
            return (model["precision"] as? String, scores)
        }

        @Test func requestsAndTheOptionChooseThePrecisionAndResultsSayWhichRan() throws {
            let models = try HeadRun.Models()
            let photo = ImageTestSupport.corpus + "/good/photo-chelsea-rgb.png"
            let base64 = try Data(contentsOf: URL(fileURLWithPath: photo)).base64EncodedString()
            let requests = models.scratch.staging
            for (name, precision) in [("bf16.json", "\"bfloat16\""), ("f32.json", "\"float32\""), ("bad.json", "\"fp8\"")] {
                try Data(#"{"task": "classify", "input": "\#(base64)", "precision": \#(precision)}"#.utf8).write(to: requests.appendingPathComponent(name))
            }
            let paths = ["bf16.json", "f32.json", "bad.json"].map { requests.appendingPathComponent($0).path }
            let run = try QuernInvocation.run(["run", "--models", models.folder, photo] + paths, timeout: 120)
            #expect(run.status == 1, "the fp8 request is an error: \(run.standardError)")
            let lines = run.standardOutput.split(separator: "\n").map(String.init)
            try #require(lines.count == 4, "\(run.standardOutput)\n\(run.standardError)")
            let plain = try Self.classification(lines[0]), reduced = try Self.classification(lines[1]), full = try Self.classification(lines[2])
            #expect(plain.precision == "float32" && full.precision == "float32", "float32 unless asked")
            #expect(reduced.precision == "bfloat16")
            #expect(plain.scores == full.scores, "a float32 request gives the plain file's result")
            for (label, score) in full.scores { #expect(abs((reduced.scores[label] ?? -1) - score) <= 0.02, "\(label): \(reduced.scores) vs \(full.scores)") }
            let bad = try HeadRun.json(lines[3])
            let error = try #require(bad["error"] as? [String: Any])
            #expect(error["code"] as? String == "request.invalid_value")
            #expect((error["message"] as? String ?? "").contains("precision"), "\(error)")

            // The option sets the task's precision; a request still chooses for itself.
            let configured = try QuernInvocation.run(["run", "--models", models.folder, "--precision", "classify=bfloat16", photo, paths[1]],
                                                     timeout: 120)
            #expect(configured.status == 0, "\(configured.standardError)")
            let configuredLines = configured.standardOutput.split(separator: "\n").map(String.init)
            try #require(configuredLines.count == 2, "\(configured.standardOutput)\n\(configured.standardError)")
            #expect(try Self.classification(configuredLines[0]).precision == "bfloat16")
            #expect(try Self.classification(configuredLines[1]).precision == "float32")
            #expect(try Self.classification(configuredLines[0]).scores == reduced.scores, "the same bfloat16 model either way")

            let wrong = try QuernInvocation.run(["run", "--models", models.folder, "--precision", "chat=bfloat16", photo])
            #expect(wrong.status != 0 && wrong.standardError.contains("--precision"), "\(wrong.standardError)")
        }
    }
}
