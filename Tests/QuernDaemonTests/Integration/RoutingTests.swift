import Foundation
import QuernTestSupport
import Testing

extension Scratch {
    /// Drops `contents` into the inbox task folder `folder` the proper way (staged, then renamed in).
    func drop(_ name: String, into folder: String, _ contents: [UInt8]) throws {
        let staged = staging.appendingPathComponent(name)
        try Data(contents).write(to: staged)
        guard rename(staged.path, inbox.appendingPathComponent(folder).appendingPathComponent(name).path) == 0 else {
            throw HarnessError("rename into \(folder) failed: \(errno)")
        }
    }

    /// The result `name` in the outbox's task folder `folder` (nil when absent).
    func routedResult(_ name: String, in folder: String) -> [String: Any]? {
        guard let data = try? Data(contentsOf: outbox.appendingPathComponent(folder).appendingPathComponent(name)) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }
}

extension Integration {
    /// `inbox/<task>/` selects the task; results go to `outbox/<task>/`.
    @Suite struct Routing {
        static let folders = ["chat", "complete", "embed", "classify", "transcribe"]

        @Test func taskFoldersChooseTheTaskAndMirrorIntoTheOutbox() throws {
            let scratch = try Scratch()
            let daemon = try DaemonProcess(scratch: scratch)
            #expect(daemon.waitUntilServing(), "\(daemon.log)")
            for folder in Self.folders {
                var isFolder: ObjCBool = false
                #expect(FileManager.default.fileExists(atPath: scratch.inbox.appendingPathComponent(folder).path, isDirectory: &isFolder) && isFolder.boolValue)
                #expect(FileManager.default.fileExists(atPath: scratch.outbox.appendingPathComponent(folder).path, isDirectory: &isFolder) && isFolder.boolValue)
            }
            try Data(#"{"truncate": true}"#.utf8).write(to: scratch.inbox.appendingPathComponent("embed/.quern-defaults.json"))
            try Data(#"{"max_tokns": 3}"#.utf8).write(to: scratch.inbox.appendingPathComponent("complete/.quern-defaults.json"))

            try scratch.drop("note.txt", into: "embed", Array("embed me\n".utf8))
            try scratch.drop("request.json", into: "embed", Array(#"{"input": ["a", "b"]}"#.utf8))
            try scratch.drop("contradicts.json", into: "embed", Array(#"{"task": "chat", "messages": [{"role": "user", "content": "hi"}]}"#.utf8))
            try scratch.drop("picture.png", into: "embed", Fixtures.png())
            try scratch.drop("cat.png", into: "classify", Fixtures.png())
            try scratch.drop("prompt.txt", into: "complete", Array("Once upon\n".utf8))
            // The same name flat and routed: two results, each under its plain name.
            try scratch.drop("note.txt", Array("chat about me\n".utf8))

            #expect(scratch.waitUntil(timeout: 20) { scratch.resultCount == 1 && scratch.routedResult("prompt.txt.json", in: "complete") != nil
                    && scratch.routedResult("cat.png.json", in: "classify") != nil
                    && ["note.txt.json", "request.json.json", "contradicts.json.json", "picture.png.json"].allSatisfy { scratch.routedResult($0, in: "embed") != nil } },
                    "\(daemon.log)")
            let note = scratch.routedResult("note.txt.json", in: "embed")
            #expect(status(note) == "ok" && note?["task"] as? String == "embed", "\(String(describing: note))")
            let request = scratch.routedResult("request.json.json", in: "embed")
            #expect(status(request) == "ok" && request?["task"] as? String == "embed", "\(String(describing: request))")
            let contradiction = scratch.routedResult("contradicts.json.json", in: "embed")
            #expect(errorCode(contradiction) == "request.invalid_value", "\(String(describing: contradiction))")
            let message = (contradiction?["error"] as? [String: Any])?["message"] as? String ?? ""
            #expect(message.contains("\"chat\"") && message.contains("embed/"), "\(message)")
            #expect(errorCode(scratch.routedResult("picture.png.json", in: "embed")) == "unsupported")
            let cat = scratch.routedResult("cat.png.json", in: "classify")
            #expect(status(cat) == "ok" && cat?["task"] as? String == "classify")
            let prompt = scratch.routedResult("prompt.txt.json", in: "complete")
            #expect(errorCode(prompt) == "request.unknown_field", "broken defaults fail the folder's files: \(String(describing: prompt))")
            #expect(((prompt?["error"] as? [String: Any])?["message"] as? String ?? "").contains(".quern-defaults.json"))
            let flat = try scratch.resultsByInput()["note.txt"]
            #expect(flat?["task"] as? String == "chat", "the flat inbox behaves as before")
            #expect(daemon.log.contains("folder=embed"))

            // A folder removed and made again is watched again.
            try FileManager.default.removeItem(at: scratch.inbox.appendingPathComponent("chat"))
            try FileManager.default.createDirectory(at: scratch.inbox.appendingPathComponent("chat"), withIntermediateDirectories: false)
            usleep(1_500_000)  // the folder check runs every second
            try scratch.drop("again.txt", into: "chat", Array("hello\n".utf8))
            #expect(scratch.waitUntil(timeout: 10) { scratch.routedResult("again.txt.json", in: "chat") != nil }, "\(daemon.log)")
            #expect(scratch.inboxCount == 0)
            #expect(scratch.entries(scratch.failed).count == 3, "the three error results' inputs are archived as failed")

            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 10) == 0)
            let folders = Self.folders.map { scratch.outbox.appendingPathComponent($0).path }
            #expect(try SchemaValidator.problems(in: [scratch.outbox.path] + folders) == nil)
        }

        /// In polling mode too; and the folder's defaults reach the model
        /// check (a default `model` nobody serves fails a plain file), while a
        /// request's own `model` wins over them.
        @Test func pollingServesTheFoldersAndDefaultsMergeUnderTheRequest() throws {
            let scratch = try Scratch()
            let daemon = try DaemonProcess(scratch: scratch, arguments: ["--poll", "--poll-interval", "0.05", "--settle", "0.2"])
            #expect(daemon.waitUntilServing(), "\(daemon.log)")
            #expect(daemon.log.contains("watch=polling"))
            try Data(#"{"model": "no-such-model", "max_tokens": 4}"#.utf8).write(to: scratch.inbox.appendingPathComponent("chat/.quern-defaults.json"))
            try scratch.drop("plain.txt", into: "chat", Array("hello\n".utf8))
            try scratch.drop("own.json", into: "chat", Array(#"{"messages": [{"role": "user", "content": "hi"}], "model": "quern-diagnostic"}"#.utf8))
            try scratch.drop("talk.wav", into: "transcribe", Fixtures.wav())
            #expect(scratch.waitUntil(timeout: 20) {
                ["plain.txt.json", "own.json.json"].allSatisfy { scratch.routedResult($0, in: "chat") != nil }
                    && scratch.routedResult("talk.wav.json", in: "transcribe") != nil
            }, "\(daemon.log)")
            let plain = scratch.routedResult("plain.txt.json", in: "chat")
            #expect(errorCode(plain) == "request.invalid_value", "\(String(describing: plain))")
            #expect(((plain?["error"] as? [String: Any])?["message"] as? String ?? "").contains("no-such-model"))
            let own = scratch.routedResult("own.json.json", in: "chat")
            #expect(status(own) == "ok" && own?["task"] as? String == "chat", "\(String(describing: own))")
            let talk = scratch.routedResult("talk.wav.json", in: "transcribe")
            #expect(status(talk) == "ok" && talk?["task"] as? String == "transcribe", "\(String(describing: talk))")
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 10) == 0)
        }

        /// A symlink by a task folder's name is never followed: it is an odd
        /// entry (the link itself, `input.symlink`), and the folder it points to is untouched.
        @Test func aSymlinkedTaskFolderIsNotFollowed() throws {
            let scratch = try Scratch()
            let elsewhere = scratch.root.appendingPathComponent("elsewhere")
            try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
            try Data("secret\n".utf8).write(to: elsewhere.appendingPathComponent("secret.txt"))
            #expect(symlink(elsewhere.path, scratch.inbox.appendingPathComponent("embed").path) == 0)

            let daemon = try DaemonProcess(scratch: scratch)
            #expect(daemon.waitUntilServing(), "\(daemon.log)")
            #expect(scratch.waitUntil(timeout: 10) { scratch.resultCount == 1 }, "\(daemon.log)")
            #expect(errorCode(try scratch.resultsByInput()["embed"]) == "input.symlink")
            #expect(FileManager.default.fileExists(atPath: elsewhere.appendingPathComponent("secret.txt").path))
            #expect(scratch.routedResult("secret.txt.json", in: "embed") == nil)
            #expect(daemon.log.contains("not a directory"), "a warning says the folder is not served")
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 10) == 0)
        }

        /// kill -9 while a routed file is inside the model: the restart
        /// finishes it with the folder's task and puts its result in the folder.
        @Test func recoveryAfterAKillKeepsTheFolder() throws {
            let scratch = try Scratch()
            let slow = try DaemonProcess(scratch: scratch, arguments: ["--diagnostic-delay-ms", "5000"], logName: "slow.log")
            #expect(slow.waitUntilServing(), "\(slow.log)")
            try scratch.drop("long.txt", into: "embed", Array("words to embed\n".utf8))
            #expect(scratch.waitUntil(timeout: 10) {
                scratch.entries(scratch.work).contains { scratch.entries(scratch.work.appendingPathComponent($0)).contains(".running") }
            })
            let claims = scratch.entries(scratch.work)
            #expect(claims.count == 1)
            #expect(scratch.entries(scratch.work.appendingPathComponent(claims.first ?? "-")).contains(".folder-embed"))
            slow.killHard()

            let daemon = try DaemonProcess(scratch: scratch, logName: "final.log")
            #expect(daemon.waitUntilServing(), "\(daemon.log)")
            #expect(scratch.waitUntil(timeout: 20) { scratch.routedResult("long.txt.json", in: "embed") != nil }, "\(daemon.log)")
            let result = scratch.routedResult("long.txt.json", in: "embed")
            #expect(status(result) == "ok" && result?["task"] as? String == "embed", "\(String(describing: result))")
            #expect(scratch.resultCount == 0, "no result in the flat outbox")
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 10) == 0)
        }
    }
}
