import Foundation
@testable import QuernDaemon
import QuernJSON
import QuernPipelines
import QuernQueue
import Testing

/// The pieces of `--queue` that need no server: names in the queue's text
/// columns, what a feeder records about an input, and the shared outbox.
@Suite struct SharedQueueStorageTests {
    @Test func namesRoundTripThroughQueueText() {
        let names: [[UInt8]] = [
            Array("notes.txt".utf8), Array("100% done.txt".utf8), Array("café ☕.png".utf8),
            [0x66, 0xFF, 0xFE, 0x2E, 0x74], [0x61, 0x0A, 0x62], Array("%41".utf8),
        ]
        for name in names {
            let text = QueueText.encode(name)
            #expect(QueueText.decode(text) == name, "\(text)")
        }
        #expect(QueueText.encode(Array("café.png".utf8)) == "café.png", "valid UTF-8 stays readable")
        #expect(QueueText.encode([0x66, 0xFF]) == "f%FF")
        #expect(QueueText.encode(Array("50%".utf8)) == "50%25")
    }

    @Test func queuedInputRoundTripsThroughItsParameters() throws {
        let input = QueuedInput(name: [0x61, 0xFF, 0x2E, 0x74, 0x78, 0x74], folder: .embed, defaultsFile: Array("{\"truncate\": true}".utf8), size: 12)
        let text = JSONWriter.string(input.json, style: .compact)
        #expect(QueuedInput(parameters: text) == input)
        let refused = QueuedInput(name: Array("big.wav".utf8), folder: nil, defaultsFile: nil,
                                  refusal: QuernError(.inputTooLarge, "the file is 9 bytes"), size: 9)
        #expect(QueuedInput(parameters: JSONWriter.string(refused.json, style: .compact)) == refused)
        #expect(QueuedInput(parameters: "{\"something\": 1}") == nil, "a row no feeder wrote")
        #expect(QueuedInput(parameters: "{\"name\": \"x\", \"folder\": \"train\"}")?.folder == nil, "only routed folders")
        for name in ["../escape", "..", "a/b", "", "%00"] {
            #expect(QueuedInput(parameters: "{\"name\": \"\(name)\"}") == nil, "\(name) is not a plain file name")
        }
    }

    /// A row's input location must be inputs/<key>/<name> of its own input:
    /// a damaged or hostile row never points a worker outside the shared folder.
    @Test func onlyPlainInputLocationsAreRead() {
        let storage = SharedStorage(root: Array("/srv/shared".utf8))
        let input = QueuedInput(name: Array("a.txt".utf8), folder: nil, defaultsFile: nil)
        func job(_ location: String) -> LeasedJob {
            LeasedJob(row: QueuedJob(id: 7, inputLocation: location, kind: "text", parameters: "{}", attempts: 1), input: input, storage: storage)
        }
        let good = job("inputs/k1/a.txt")
        #expect(good.problem == nil)
        #expect(good.key == "k1")
        #expect(good.inputPath == Array("/srv/shared/inputs/k1/a.txt".utf8))
        for bad in ["inputs/../a.txt", "inputs/k1/../../etc/a.txt", "/etc/passwd", "inputs/k1/b.txt", "outbox/k1/a.txt", "inputs/k1"] {
            let refused = job(bad)
            #expect(refused.problem?.code == .internalError, "\(bad)")
            #expect(refused.key == "job-7", "\(bad)")
        }
    }

    @Test func kindsFollowFoldersThenMagic() {
        #expect(QueueKind.of(prefix: [0x89, 0x50, 0x4E, 0x47, 0x0D], folder: nil) == "image")
        #expect(QueueKind.of(prefix: Array("RIFF....WAVE".utf8), folder: nil) == "audio")
        #expect(QueueKind.of(prefix: Array("hello".utf8), folder: nil) == "text")
        #expect(QueueKind.of(prefix: Array("hello".utf8), folder: .transcribe) == "audio")
        #expect(QueueKind.served(by: [.classify]) == ["unknown", "image"])
        #expect(Set(QueueKind.served(by: TaskName.allCases)) == ["unknown", "image", "audio", "text"])
    }

    /// A job that ran twice (a lease expired under a slow worker) leaves one
    /// result, sidecars beside it, and no temporary file.
    @Test func publishingTwiceLeavesOneResult() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("quern-shared-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let storage = SharedStorage(root: Array(root.utf8))
        try storage.prepare()
        try storage.stage(key: "k1", name: Array("talk.wav".utf8), bytes: [1, 2, 3])
        #expect(FileManager.default.contents(atPath: root + "/inputs/k1/talk.wav") == Data([1, 2, 3]))
        for writer in ["a-0", "b-2"] {
            let location = try storage.publish(jobID: 42, name: Array("talk.wav".utf8), folder: .transcribe, writer: writer,
                                               result: Array("{\"by\": \"\(writer)\"}\n".utf8), sidecars: [(.srt, Array("1\n".utf8))])
            #expect(location == Array("transcribe/42-talk.wav.json".utf8))
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: root + "/outbox/transcribe").sorted()
        #expect(files == ["42-talk.wav.json", "42-talk.wav.srt"])
        #expect(String(decoding: FileManager.default.contents(atPath: root + "/outbox/transcribe/42-talk.wav.json") ?? Data(), as: UTF8.self).contains("b-2"))
        storage.archive(key: "k1", succeeded: true)
        storage.archive(key: "k1", succeeded: true)  // a second end (after a crash) finds nothing to move
        #expect(FileManager.default.fileExists(atPath: root + "/archive/done/k1/talk.wav"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/inputs").isEmpty)

        // A writer killed before its rename leaves a temporary file; a
        // worker's start removes the old ones, never a fresh one.
        let old = root + "/outbox/embed/.quern-job-7-dead-1.tmp"
        let fresh = root + "/outbox/.quern-job-8-live-0.tmp"
        for path in [old, fresh] { FileManager.default.createFile(atPath: path, contents: Data("{".utf8)) }
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-3600)], ofItemAtPath: old)
        #expect(storage.sweepTemporaryResults(olderThan: 600) == 1)
        #expect(!FileManager.default.fileExists(atPath: old))
        #expect(FileManager.default.fileExists(atPath: fresh))
    }
}
