import Foundation
import QuernTestSupport
import Testing

extension Integration {
    @Suite struct RunCommand {
        @Test func printsOneJSONLinePerFile() throws {
            let scratch = try Scratch()
            let text = scratch.staging.appendingPathComponent("note.txt")
            try Data("hello\nworld\n".utf8).write(to: text)
            let image = scratch.staging.appendingPathComponent("pic.png")
            try Data(Fixtures.png()).write(to: image)

            // No model for these tasks (an empty models folder): an honest `unsupported`, exit 1.
            let noModels = scratch.root.appendingPathComponent("no-models")
            try FileManager.default.createDirectory(at: noModels, withIntermediateDirectories: true)
            let plain = try QuernBinary.run(["--models", noModels.path, text.path, image.path])
            #expect(plain.status == 1)
            #expect(plain.lines.count == 2)
            for line in plain.lines {
                let document = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                #expect(errorCode(document) == "unsupported")
                #expect(document?["result"] is NSNull)
            }
            let textResult = try JSONSerialization.jsonObject(with: Data(plain.lines[0].utf8)) as? [String: Any]
            let message = (textResult?["error"] as? [String: Any])?["message"] as? String ?? ""
            #expect(message.contains("fetch-models"), "a missing model should say how to fetch it: \(message)")

            let diagnostic = try QuernBinary.run(["--diagnostic-pipeline", text.path])
            #expect(diagnostic.status == 0)
            let document = try JSONSerialization.jsonObject(with: Data(diagnostic.lines.joined().utf8)) as? [String: Any]
            #expect(((document?["result"] as? [String: Any])?["diagnostic"] as? [String: Any])?["lines"] as? Int == 2)
            #expect((document?["input"] as? [String: Any])?["sha256"] as? String == "4a1e67f2fe1d1cc7b31d0ca2ec441da4778203a036a77da10344c85e24ff0f92")  // sha256sum

            let missing = try QuernBinary.run([scratch.root.appendingPathComponent("nope.txt").path])
            #expect(missing.status == 1)
            let missingDocument = try JSONSerialization.jsonObject(with: Data(missing.lines.joined().utf8)) as? [String: Any]
            #expect(errorCode(missingDocument) == "input.unreadable")
        }
    }
}
