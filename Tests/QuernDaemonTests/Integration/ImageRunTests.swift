import Foundation
import QuernTestSupport
import Testing

extension Integration {
    /// PNG files through `quern run` with the real open_nsfw model: results
    /// validate against the schema, carry labels, the embedding, the image's
    /// facts and the preprocessing; broken files are error results. A JPEG
    /// named .png is classified as the JPEG it is (content decides).
    @Suite struct ImageRun {
        static var models: String { TestPaths.models }
        static var corpus: String { ImageTestSupport.corpus }

        @Test func pngFilesBecomeSchemaValidResults() throws {
            try #require(FileManager.default.fileExists(atPath: Self.models + "/open-nsfw/open-nsfw.onnx"),
                         "open_nsfw is missing from \(Self.models): run scripts/fetch-models.sh")
            let files = ["good/photo-chelsea-rgb.png", "good/palette4-adam7.png", "good/gray16.png",
                         "broken/idat-crc.png", "broken/zlib-not-enough-data.png", "broken/jpeg-named-png.png"]
            let (status, lines) = try QuernBinary.run(["--models", Self.models] + files.map { Self.corpus + "/" + $0 })
            #expect(status == 1, "broken files make the exit status 1")
            try #require(lines.count == files.count, "one result line per file")

            let scratch = try Scratch()
            for (index, line) in lines.enumerated() {
                try Data(line.utf8).write(to: scratch.outbox.appendingPathComponent("r\(index).json"))
            }
            if let problems = try SchemaValidator.problems(in: [scratch.outbox.path]) { Issue.record("schema: \(problems)") }

            let documents = try lines.map { line in
                try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not a JSON object: \(line)")
            }
            for document in documents.prefix(3) {
                let result = document["result"] as? [String: Any]
                let labels = result?["labels"] as? [[String: Any]] ?? []
                #expect(labels.compactMap { $0["label"] as? String }.sorted() == ["nsfw", "sfw"])
                #expect((result?["embedding"] as? [Any])?.count == 1024)
                #expect(((result?["preprocessing"] as? [String: Any])?["name"] as? String) == "open_nsfw")
            }
            let palette = (documents[1]["result"] as? [String: Any])?["image"] as? [String: Any]
            #expect(palette?["color_type"] as? String == "palette" && palette?["bit_depth"] as? Int == 4 && palette?["interlaced"] as? Bool == true)
            let codes = documents.suffix(3).map { ($0["error"] as? [String: Any])?["code"] as? String }
            #expect(codes == ["input.corrupt", "input.corrupt", nil])
            let misnamed = (documents[5]["result"] as? [String: Any])?["image"] as? [String: Any]
            #expect(documents[5]["status"] as? String == "ok" && misnamed?["format"] as? String == "jpeg", "\(documents[5])")
            #expect(((documents[0]["result"] as? [String: Any])?["image"] as? [String: Any])?["format"] as? String == "png")
        }
    }
}
