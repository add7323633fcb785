import Foundation
import QuernTestSupport
import Testing

extension Integration {
    /// Model files that are hostile or go bad: each must make only its own
    /// tasks unavailable (or stop the daemon cleanly), never crash or hang it.
    @Suite struct HostileModels {
        static var models: String { ImageRun.models }

        /// A models folder whose language model is `languageModel` (written by
        /// the closure) and whose image model is the real open_nsfw.
        func modelsFolder(in scratch: Scratch, languageModel: (String) throws -> Void) throws -> String {
            let folder = scratch.root.appendingPathComponent("models").path
            let fileManager = FileManager.default
            try fileManager.createDirectory(atPath: folder + "/smollm2-135m-instruct", withIntermediateDirectories: true)
            for name in ["open-nsfw", "imagenet-classes"] {
                try fileManager.createSymbolicLink(atPath: folder + "/" + name, withDestinationPath: Self.models + "/" + name)
            }
            try languageModel(folder + "/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf")
            return folder
        }

        /// A GGUF v3 with a plausible Llama header except for one value, and
        /// no tensors: loading must refuse the value before any size is
        /// computed from it (2^61 × heads used to trap).
        static func llamaHeader(overriding key: String, with value: (type: UInt32, bytes: [UInt8])) -> [UInt8] {
            var out: [UInt8] = []
            func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
            func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
            func string(_ s: String) { u64(UInt64(s.utf8.count)); out += Array(s.utf8) }
            let tokens = (0..<256).map { "t\($0)" }
            var entries: [(String, UInt32, [UInt8])] = []
            func encode(_ body: () -> Void) -> [UInt8] {
                let saved = out
                out = []
                body()
                defer { out = saved }
                return out
            }
            func add(_ name: String, _ type: UInt32, _ body: () -> Void) { entries.append((name, type, encode(body))) }
            add("general.architecture", 8) { string("llama") }
            for (name, number) in [("llama.block_count", 2), ("llama.embedding_length", 64), ("llama.feed_forward_length", 160),
                                   ("llama.attention.head_count", 8), ("llama.attention.head_count_kv", 2), ("llama.context_length", 64)] {
                add(name, 4) { u32(UInt32(number)) }
            }
            add("tokenizer.ggml.model", 8) { string("gpt2") }
            add("tokenizer.ggml.pre", 8) { string("gpt2") }
            add("tokenizer.ggml.tokens", 9) { u32(8); u64(UInt64(tokens.count)); tokens.forEach(string) }
            add("tokenizer.ggml.token_type", 9) { u32(5); u64(UInt64(tokens.count)); tokens.forEach { _ in u32(1) } }
            add("tokenizer.ggml.merges", 9) { u32(8); u64(1); string("t 1") }
            entries.removeAll { $0.0 == key }
            entries.append((key, value.type, value.bytes))
            out = Array("GGUF".utf8)
            u32(3)
            u64(0)
            u64(UInt64(entries.count))
            for (name, type, bytes) in entries {
                string(name)
                u32(type)
                out += bytes
            }
            while out.count % 32 != 0 { out.append(0) }
            return out
        }

        @Test(arguments: [
            ("llama.attention.key_length", UInt32(10), withUnsafeBytes(of: (UInt64(1) << 61).littleEndian) { Array($0) }, "head dimension"),
            ("llama.context_length", UInt32(5), withUnsafeBytes(of: Int32(-1).littleEndian) { Array($0) }, "context length"),
            ("llama.attention.head_count", UInt32(10), withUnsafeBytes(of: (UInt64(1) << 40).littleEndian) { Array($0) }, "heads"),
        ])
        func anOverflowingModelFieldOnlyDisablesItsOwnTasks(key: String, type: UInt32, value: [UInt8], named: String) throws {
            guard FileManager.default.fileExists(atPath: Self.models + "/open-nsfw/open-nsfw.onnx") else {
                Issue.record("open_nsfw is missing from \(Self.models): run scripts/fetch-models.sh"); return
            }
            let scratch = try Scratch()
            let folder = try modelsFolder(in: scratch) { path in
                try Data(Self.llamaHeader(overriding: key, with: (type, value))).write(to: URL(fileURLWithPath: path))
            }
            let text = scratch.staging.appendingPathComponent("question.txt")
            try Data("What is the capital of France?\n".utf8).write(to: text)
            let image = ImageRun.corpus + "/good/photo-chelsea-rgb.png"
            let (status, lines) = try QuernBinary.run(["--models", folder, text.path, image], timeout: 60)
            #expect(status == 1, "the process must finish (no trap) with the text's error")
            try #require(lines.count == 2, "one result line per file")
            let documents = try lines.map { line in
                try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not a JSON object: \(line)")
            }
            let error = documents[0]["error"] as? [String: Any]
            #expect(error?["code"] as? String == "unsupported", "\(documents[0])")
            #expect((error?["message"] as? String)?.contains(named) == true, "\(documents[0])")
            #expect(documents[1]["status"] as? String == "ok", "the image model is unharmed: \(documents[1])")
        }

        /// A FIFO in place of a model file used to block `open()` forever.
        @Test func aFIFOModelFileIsRefusedNotWaitedOn() throws {
            let scratch = try Scratch()
            let folder = try modelsFolder(in: scratch) { path in
                guard mkfifo(path, 0o644) == 0 else { throw HarnessError("mkfifo failed: \(errno)") }
            }
            let text = scratch.staging.appendingPathComponent("question.txt")
            try Data("Hello\n".utf8).write(to: text)
            let (status, lines) = try QuernBinary.run(["--models", folder, text.path], timeout: 30)
            #expect(status == 1, "quern run must not block on the FIFO")
            let document = lines.first.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            let message = (document?["error"] as? [String: Any])?["message"] as? String
            #expect(message?.contains("not a regular file") == true, "\(String(describing: document))")
        }

        /// A model file truncated in place while served (the language model's
        /// GGUF stays mapped: its float tensors are used where they lie): the
        /// daemon stops (exit 1, a clear log line) before touching the missing
        /// pages, and the input it was about to run is handed back, not failed.
        @Test func aModelTruncatedWhileServedStopsTheDaemonCleanly() throws {
            let original = Self.models + "/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf"
            guard FileManager.default.fileExists(atPath: original) else {
                Issue.record("SmolLM2 is missing from \(Self.models): run scripts/fetch-models.sh"); return
            }
            let scratch = try Scratch()
            let folder = try modelsFolder(in: scratch) { path in try FileManager.default.copyItem(atPath: original, toPath: path) }
            let gguf = folder + "/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf"
            let daemon = try DaemonProcess(scratch: scratch, arguments: ["--models", folder, "--text-task", "complete"], diagnostic: false)
            #expect(daemon.waitUntilServing(timeout: 60), "\(daemon.log)")
            try scratch.drop("before.json", Array(#"{"task": "complete", "prompt": "One, two,", "max_tokens": 2}"#.utf8))
            #expect(scratch.waitUntil(timeout: 60) { scratch.resultCount == 1 }, "\(daemon.log)")
            #expect(truncate(gguf, 4096) == 0)
            try scratch.drop("after.json", Array(#"{"task": "complete", "prompt": "One, two,", "max_tokens": 2}"#.utf8))
            #expect(daemon.waitForExit(timeout: 30) == 1, "\(daemon.log)")
            #expect(daemon.log.contains("a model file was truncated"), "\(daemon.log)")
            #expect(scratch.resultCount == 1)
            let claims = scratch.entries(scratch.work)
            #expect(claims.count == 1)
            if let claim = claims.first {
                #expect(scratch.entries(scratch.work.appendingPathComponent(claim)).contains(".handed-back"))
            }
        }
    }
}
