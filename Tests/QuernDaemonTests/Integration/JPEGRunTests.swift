import Foundation
import QuernTestSupport
import Testing

extension Integration {
    /// JPEG photos through a real `quern serve` with open_nsfw: dropped in
    /// the inbox, in its `classify/` folder and base64 in a classify request,
    /// each gets a schema-valid classification whose image facts say
    /// `jpeg`; a truncated JPEG is an `input.corrupt` result and a JPEG
    /// bomb is refused from its frame header without a model.
    @Suite struct JPEGRun {
        @Test func jpegFilesDroppedInTheInboxAreClassified() throws {
            let models = ImageRun.models
            try #require(FileManager.default.fileExists(atPath: models + "/open-nsfw/open-nsfw.onnx"),
                         "open_nsfw is missing from \(models): run scripts/fetch-models.sh")
            let photo = [UInt8](try Data(contentsOf: URL(fileURLWithPath: JPEGTestSupport.photos + "/astronaut-512.jpg")))
            let turned = [UInt8](try Data(contentsOf: URL(fileURLWithPath: JPEGTestSupport.photos + "/chelsea-orientation-6.jpg")))
            let cmyk = [UInt8](try Data(contentsOf: URL(fileURLWithPath: JPEGTestSupport.photos + "/astronaut-cmyk.jpg")))
            let truncated = [UInt8](try Data(contentsOf: URL(fileURLWithPath: JPEGTestSupport.corpus + "/truncated-scan.jpg")))

            let scratch = try Scratch()
            let daemon = try DaemonProcess(scratch: scratch, arguments: ["--models", models, "--threads", "2"], diagnostic: false)
            #expect(daemon.waitUntilServing(timeout: 60), "\(daemon.log)")
            try scratch.drop("astronaut.jpg", photo)
            try scratch.drop("portrait.jpeg", turned)
            try scratch.drop("IMG_0001.JPG", into: "classify", cmyk)
            try scratch.drop("request.json", Array(#"{"task": "classify", "input": "\#(Data(photo).base64EncodedString())", "top_k": 1}"#.utf8))
            try scratch.drop("cut.jpg", truncated)
            #expect(scratch.waitUntil(timeout: 120) { scratch.resultCount == 4 && scratch.routedResult("IMG_0001.JPG.json", in: "classify") != nil },
                    "\(daemon.log)")
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 30) == 0)
            if let problems = try SchemaValidator.problems(in: [scratch.outbox.path, scratch.outbox.appendingPathComponent("classify").path]) {
                Issue.record("schema: \(problems)")
            }

            let results = try scratch.resultsByInput()
            let astronaut = results["astronaut.jpg"]
            #expect(status(astronaut) == "ok" && astronaut?["task"] as? String == "classify", "\(String(describing: astronaut))")
            #expect((astronaut?["input"] as? [String: Any])?["kind"] as? String == "image")
            let facts = (astronaut?["result"] as? [String: Any])?["image"] as? [String: Any]
            #expect(facts?["format"] as? String == "jpeg" && facts?["width"] as? Int == 512 && facts?["color_type"] as? String == "rgb")
            let labels = (astronaut?["result"] as? [String: Any])?["labels"] as? [[String: Any]] ?? []
            #expect(labels.compactMap { $0["label"] as? String }.sorted() == ["nsfw", "sfw"])

            let portrait = results["portrait.jpeg"]
            #expect(status(portrait) == "ok", "\(String(describing: portrait))")
            let steps = ((portrait?["result"] as? [String: Any])?["preprocessing"] as? [String: Any])?["steps"] as? [String] ?? []
            #expect(steps.contains("EXIF orientation 6: ROTATE_270"), "\(steps)")

            let request = results["request.json"]
            #expect(status(request) == "ok" && ((request?["result"] as? [String: Any])?["labels"] as? [Any])?.count == 1,
                    "\(String(describing: request))")

            let routed = scratch.routedResult("IMG_0001.JPG.json", in: "classify")
            #expect(status(routed) == "ok", "\(String(describing: routed))")
            let routedFacts = (routed?["result"] as? [String: Any])?["image"] as? [String: Any]
            #expect(routedFacts?["color_type"] as? String == "cmyk")

            #expect(errorCode(results["cut.jpg"]) == "input.corrupt", "\(String(describing: results["cut.jpg"]))")
        }

        /// A 96×64 file declaring 65,000 × 65,000 pixels: refused at intake from
        /// its frame header, naming the option, with no model loaded.
        @Test func jpegBombIsRefusedFromItsHeader() throws {
            let scratch = try Scratch()
            let noModels = scratch.root.appendingPathComponent("no-models")
            try FileManager.default.createDirectory(at: noModels, withIntermediateDirectories: true)
            let (status, lines) = try QuernBinary.run(["--models", noModels.path, JPEGTestSupport.corpus + "/bomb-65000x65000.jpg"])
            #expect(status == 1)
            let document = try lines.first.flatMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            #expect(errorCode(document) == "input.too_large", "\(String(describing: document))")
            let message = ((document?["error"] as? [String: Any])?["message"] as? String) ?? ""
            #expect(message.contains("65000×65000") && message.contains("--max-pixels"), "\(message)")
            #expect((document?["input"] as? [String: Any])?["kind"] as? String == "image")
        }
    }
}
