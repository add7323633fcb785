import Foundation
import QuernTestSupport
import Testing

/// Conversations through a real `quern serve`: follow-up files that carry
/// only their new message, the prefix cache, a restart, `forget`.
extension Integration {
    @Suite struct Conversations {
        static func chat(_ id: String, _ text: String) -> [UInt8] {
            Array(#"{"task": "chat", "conversation": "\#(id)", "messages": [{"role": "user", "content": "\#(text)"}], "max_tokens": 24, "temperature": 0}"#.utf8)
        }

        static func result(_ scratch: Scratch, _ name: String, daemon: DaemonProcess) throws -> [String: Any] {
            #expect(scratch.waitUntil(timeout: 60) { (try? scratch.resultsByInput()[name]) != nil }, "\(daemon.log)")
            return try #require(try scratch.resultsByInput()[name], "no result for \(name)")
        }

        static func conversation(_ result: [String: Any]) -> [String: Any] {
            ((result["result"] as? [String: Any])?["conversation"] as? [String: Any]) ?? [:]
        }

        static func promptTokens(_ result: [String: Any]) -> Int {
            (((result["result"] as? [String: Any])?["usage"] as? [String: Any])?["prompt_tokens"] as? Int) ?? 0
        }

        @Test func fiveTurnsARestartAndForget() throws {
            try #require(FileManager.default.fileExists(atPath: TestPaths.smolLM2), "the chat model is missing: run scripts/fetch-models.sh")
            let scratch = try Scratch()
            let arguments = ["--models", TestPaths.models, "--preload", "--settle", "0.2"]
            var daemon = try DaemonProcess(scratch: scratch, arguments: arguments, diagnostic: false)
            #expect(daemon.waitUntilServing(timeout: 120), "\(daemon.log)")
            let questions = ["My name is Ada and my cat is called Pixel.", "I live in a small town by the sea.", "I like to paint boats.",
                             "Yesterday I painted a red boat.", "What is the name of my cat?"]
            var previousPrompt = 0
            var last: [String: Any] = [:]
            for (turn, question) in questions.enumerated() {
                // Each file carries only its new message; the next is dropped once the previous is answered.
                try scratch.drop("turn\(turn + 1).json", Self.chat("ada", question))
                last = try Self.result(scratch, "turn\(turn + 1).json", daemon: daemon)
                #expect(status(last) == "ok", "\(last)")
                let conversation = Self.conversation(last)
                #expect(conversation["id"] as? String == "ada")
                #expect(conversation["history_messages"] as? Int == 2 * turn, "\(conversation)")
                #expect(conversation["stored_messages"] as? Int == 2 * turn + 2, "\(conversation)")
                // The model saw the history: the prompt grows turn by turn, and
                // from turn 2 on the earlier turns come from the prefix cache.
                #expect(Self.promptTokens(last) > previousPrompt)
                if turn > 0 { #expect((conversation["cached_tokens"] as? Int ?? 0) > previousPrompt / 2, "\(conversation)") }
                previousPrompt = Self.promptTokens(last)
            }
            let stored = try #require(FileManager.default.contents(atPath: scratch.inbox.path + "/.quern/conversations/ada.json"))
            let document = try #require(try JSONSerialization.jsonObject(with: stored) as? [String: Any])
            let messages = try #require(document["messages"] as? [[String: String]])
            #expect(messages.count == 10 && messages[0]["content"] == questions[0] && messages[9]["role"] == "assistant")
            #expect(try SchemaValidator.problems(in: [scratch.outbox.path]) == nil)

            // A restart keeps the conversation (the cache starts empty).
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 30) == 0)
            daemon = try DaemonProcess(scratch: scratch, arguments: arguments, logName: "daemon2.log", diagnostic: false)
            #expect(daemon.waitUntilServing(timeout: 120), "\(daemon.log)")
            try scratch.drop("turn6.json", Self.chat("ada", "And where do I live?"))
            let sixth = try Self.result(scratch, "turn6.json", daemon: daemon)
            #expect(Self.conversation(sixth)["history_messages"] as? Int == 10 && Self.conversation(sixth)["cached_tokens"] as? Int == 0)
            #expect(Self.promptTokens(sixth) > previousPrompt)

            // forget deletes it: the next turn starts afresh.
            try scratch.drop("forget.json", Array(#"{"task": "forget", "conversation": "ada"}"#.utf8))
            let forgotten = try Self.result(scratch, "forget.json", daemon: daemon)
            #expect(status(forgotten) == "ok" && forgotten["task"] as? String == "forget", "\(forgotten)")
            let answer = forgotten["result"] as? [String: Any]
            #expect(answer?["existed"] as? Bool == true && answer?["messages"] as? Int == 12 && answer?["conversation"] as? String == "ada")
            #expect(!FileManager.default.fileExists(atPath: scratch.inbox.path + "/.quern/conversations/ada.json"))
            try scratch.drop("again.json", Self.chat("ada", "Hello"))
            #expect(Self.conversation(try Self.result(scratch, "again.json", daemon: daemon))["history_messages"] as? Int == 0)
            #expect(try SchemaValidator.problems(in: [scratch.outbox.path]) == nil)
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 30) == 0)
        }

        /// Without a model: ids are checked, and forget answers whether the
        /// conversation existed.
        @Test func badIdsAreRefusedAndForgettingNothingSaysSo() throws {
            let scratch = try Scratch()
            let daemon = try DaemonProcess(scratch: scratch, arguments: ["--settle", "0.2"])
            #expect(daemon.waitUntilServing(), "\(daemon.log)")
            try scratch.drop("escape.json", Self.chat("../../etc/passwd", "hi"))
            try scratch.drop("nothing.json", Array(#"{"task": "forget", "conversation": "never-seen"}"#.utf8))
            try scratch.drop("missing.json", Array(#"{"task": "forget"}"#.utf8))
            #expect(scratch.waitUntil(timeout: 20) { scratch.resultCount == 3 }, "\(daemon.log)")
            let results = try scratch.resultsByInput()
            #expect(errorCode(results["escape.json"]) == "request.invalid_value", "\(String(describing: results["escape.json"]))")
            #expect(errorCode(results["missing.json"]) == "request.missing_field")
            let nothing = results["nothing.json"]?["result"] as? [String: Any]
            #expect(nothing?["existed"] as? Bool == false && nothing?["messages"] as? Int == 0, "\(String(describing: results["nothing.json"]))")
            #expect(try SchemaValidator.problems(in: [scratch.outbox.path]) == nil)
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 15) == 0)
        }
    }
}
