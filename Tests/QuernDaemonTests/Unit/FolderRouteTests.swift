import QuernModels
import QuernPipelines
import QuernTestSupport
import Testing

/// How a task folder's task and `.quern-defaults.json` shape the job of a file dropped in it.
@Suite struct FolderRouteTests {
    let inspector = InputInspector(limits: InputLimits())

    func route(_ task: TaskName, defaults: String?) -> FolderRoute {
        FolderRoute(task: task, label: "inbox/\(task.rawValue)/", defaultsFile: defaults.map { Array($0.utf8) })
    }

    func job(_ name: String, _ contents: String, _ route: FolderRoute) throws -> Job {
        try inspector.inspect(name: Array(name.utf8), bytes: Array(contents.utf8), route: route).outcome.get()
    }

    func failure(_ name: String, _ bytes: [UInt8], _ route: FolderRoute) -> QuernError? {
        guard case let .failure(error) = inspector.inspect(name: Array(name.utf8), bytes: bytes, route: route).outcome else { return nil }
        return error
    }

    @Test func aRequestsOwnFieldsWinOverTheFolderDefaults() throws {
        let chat = route(.chat, defaults: #"{"max_tokens": 5, "temperature": 0, "seed": 7}"#)
        let found = try job("q.json", #"{"messages": [{"role": "user", "content": "hi"}], "temperature": 0.5}"#, chat)
        guard case let .chat(messages, sampling) = found.request else { Issue.record("not a chat: \(found.request)"); return }
        #expect(messages == [ChatMessage(role: .user, content: "hi")])
        #expect(sampling.maxTokens == 5)
        #expect(sampling.temperature == 0.5)
        #expect(sampling.seed == 7)
    }

    @Test func plainFilesTakeTheFolderTaskAndItsDefaults() throws {
        let embed = try job("note.txt", "some words\n", route(.embed, defaults: #"{"truncate": true}"#))
        #expect(embed.request == .embed(inputs: ["some words\n"], truncate: true))
        let complete = try job("p.txt", "Once upon", route(.complete, defaults: #"{"max_tokens": 3}"#))
        guard case let .complete(prompt, sampling) = complete.request else { Issue.record("not a completion"); return }
        #expect(prompt == "Once upon" && sampling.maxTokens == 3)
        #expect(complete.embedsText, "plain text keeps its embedding beside the completion, as in the inbox itself")
        // Without a defaults file the folder only sets the task.
        #expect(try job("n.txt", "x", route(.embed, defaults: nil)).request == .embed(inputs: ["x"], truncate: false))
        // A request that leaves out "task" gets the folder's.
        #expect(try job("r.json", #"{"input": ["a", "b"]}"#, route(.embed, defaults: nil)).request == .embed(inputs: ["a", "b"], truncate: false))
    }

    @Test func imagesGetTheirFoldersDefaultsAndKeepTheirBytes() throws {
        let png = Fixtures.png()
        let inspection = inspector.inspect(name: Array("cat.png".utf8), bytes: png, route: route(.classify, defaults: #"{"top_k": 3, "heads": []}"#))
        let found = try inspection.outcome.get()
        #expect(inspection.kind == .image)
        #expect(found.request == .classify(image: png, topK: 3, threshold: nil))
        #expect(found.heads == [])
    }

    @Test func aTaskThatContradictsTheFolderIsAnErrorNamingBoth() {
        let error = failure("q.json", Array(#"{"task": "chat", "messages": [{"role": "user", "content": "hi"}]}"#.utf8), route(.embed, defaults: nil))
        #expect(error?.code == .requestInvalidValue)
        #expect(error?.message.contains("\"chat\"") == true && error?.message.contains("inbox/embed/") == true, "\(String(describing: error))")
        // The same task as the folder is fine.
        #expect(failure("q.json", Array(#"{"task": "embed", "input": "x"}"#.utf8), route(.embed, defaults: nil)) == nil)
    }

    @Test func aFileOfTheWrongKindForTheFolderIsUnsupported() {
        let error = failure("cat.png", Fixtures.png(), route(.embed, defaults: nil))
        #expect(error?.code == .unsupported && error?.message.contains("inbox/embed/") == true, "\(String(describing: error))")
        #expect(failure("t.txt", Array("words".utf8), route(.transcribe, defaults: nil))?.code == .unsupported)
    }

    @Test func brokenDefaultsFailEveryFileNamingTheDefaultsFile() {
        let cases: [(String, ErrorCode)] = [
            (#"{"max_tokns": 5}"#, .requestUnknownField),
            (#"{"truncate": "yes"}"#, .requestWrongType),
            (#"{"messages": []}"#, .requestFieldNotApplicable),
            (#"{"task": "chat"}"#, .requestInvalidValue),
            (#"{"truncate": "#, .requestInvalidJSON),
            (#"[1]"#, .requestNotObject),
        ]
        for (defaults, code) in cases {
            let error = failure("n.txt", Array("x".utf8), route(.embed, defaults: defaults))
            #expect(error?.code == code, "\(defaults): \(String(describing: error))")
            #expect(error?.message.contains("inbox/embed/.quern-defaults.json") == true, "\(defaults): \(String(describing: error))")
        }
        // Undecodable files still fail as themselves, whatever the defaults.
        #expect(failure("e.txt", [], route(.embed, defaults: "{")).map(\.code) == .inputEmpty)
    }
}
