import Foundation
import QuernTestSupport
import Testing

extension Integration {
    /// Hostile texts through `quern run` with the real SmolLM2 (skipped when
    /// the default models are not fetched): each gets its one result in
    /// seconds, where the quadratic tokenizer and the re-tokenizing
    /// turn-dropping loop took minutes. The inputs are generated here.
    @Suite(.enabled(if: TextModels.present)) struct HostileTextRun {
        static var models: String { TextModels.directory }

        /// Runs one file and returns its result document and the wall time.
        func run(_ name: String, _ bytes: [UInt8]) throws -> (document: [String: Any]?, seconds: Double) {
            let scratch = try Scratch()
            let file = scratch.staging.appendingPathComponent(name)
            try Data(bytes).write(to: file)
            let start = ContinuousClock.now
            let (_, lines) = try QuernBinary.run(["--models", Self.models, file.path])
            let elapsed = ContinuousClock.now - start
            let document = try lines.first.flatMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            #expect(lines.count == 1, "one result line for \(name)")
            return (document, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        }

        /// 100 KB of one letter is one pre-tokenized word (25,000 tokens).
        @Test func aHundredKilobyteWordIsAnsweredInSeconds() throws {
            let (document, seconds) = try run("aaaa.txt", [UInt8](repeating: UInt8(ascii: "a"), count: 100_000))
            #expect(status(document) == "ok" || errorCode(document) == "context.too_long", "\(document ?? [:])")
            #expect(seconds < 60, "took \(seconds) s")
        }

        /// 20,000 CJK characters: one word of 60,000 bytes, too long for the context.
        @Test func twentyThousandCJKCharactersAreRefusedInSeconds() throws {
            let text = String((0..<20_000).map { Character(Unicode.Scalar(0x4E00 + ($0 * 7919) % 20_000)!) })
            let (document, seconds) = try run("cjk.txt", Array(text.utf8))
            #expect(errorCode(document) == "context.too_long", "\(document ?? [:])")
            #expect(seconds < 60, "took \(seconds) s")
        }

        /// 5,000 turns before a newest message that cannot fit: refused
        /// after tokenizing that message once, not 5,000 re-renderings.
        @Test func fiveThousandTurnsBeforeAnOversizedMessageAreRefusedInSeconds() throws {
            var messages: [[String: Any]] = (0..<5000).map { ["role": $0 % 2 == 0 ? "user" : "assistant", "content": $0 % 7 == 0 ? "" : "turn \($0) with a few words"] }
            messages.append(["role": "user", "content": String(repeating: "a", count: 40_000)])
            let request = try JSONSerialization.data(withJSONObject: ["task": "chat", "messages": messages, "max_tokens": 1])
            let (document, seconds) = try run("long-chat.json", [UInt8](request))
            #expect(errorCode(document) == "context.too_long", "\(document ?? [:])")
            #expect(seconds < 60, "took \(seconds) s")
        }
    }
}

/// The default text models (chat and embedding), when fetched.
enum TextModels {
    static var directory: String { TestPaths.models }
    static var present: Bool {
        FileManager.default.fileExists(atPath: directory + "/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf")
            && FileManager.default.fileExists(atPath: directory + "/all-minilm-l6-v2")
    }
}
