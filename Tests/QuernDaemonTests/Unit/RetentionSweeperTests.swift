import Foundation
import Logging
@testable import QuernDaemon
import QuernTestSupport
import Testing

/// The sweeper on hand-built archives and outboxes: what it deletes, in
/// what order, and everything it must leave alone.
@Suite struct RetentionSweeperTests {
    let scratch: Scratch
    let layout: DaemonLayout
    let fileManager = FileManager.default
    let now = Date().timeIntervalSince1970
    static let day = 86400.0

    init() throws {
        scratch = try Scratch()
        layout = DaemonLayout(inbox: scratch.inbox.path, outbox: scratch.outbox.path, work: nil, done: nil, failed: nil)
        for directory in [scratch.done, scratch.failed, scratch.outbox.appendingPathComponent("embed")] {
            try fileManager.createDirectory(at: directory, withIntermediateDirectories: true)
        }
    }

    func sweeper(_ configure: (inout RetentionPolicy) -> Void) -> RetentionSweeper {
        var policy = RetentionPolicy()
        configure(&policy)
        return RetentionSweeper(layout: layout, policy: policy, logger: Logger(label: "test"))
    }

    /// An archived claim folder holding one input of `bytes` bytes, archived `age` seconds ago.
    @discardableResult
    func archived(_ id: String, in archive: URL, bytes: Int = 10, age: Double) throws -> URL {
        let folder = archive.appendingPathComponent(id)
        try fileManager.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(repeating: 0x61, count: bytes).write(to: folder.appendingPathComponent("input.txt"))
        try setAge(folder, age)
        return folder
    }

    @discardableResult
    func result(_ name: String, in directory: URL? = nil, bytes: Int = 100, age: Double) throws -> URL {
        let file = (directory ?? scratch.outbox).appendingPathComponent(name)
        let head = "{\n  \"schema_version\": 1,\n  \"pad\": \""
        try Data((head + String(repeating: "x", count: max(0, bytes - head.utf8.count - 3)) + "\"\n}").utf8).write(to: file)
        try setAge(file, age)
        return file
    }

    func setAge(_ url: URL, _ age: Double) throws {
        try fileManager.setAttributes([.modificationDate: Date(timeIntervalSince1970: now - age)], ofItemAtPath: url.path)
    }

    func exists(_ url: URL) -> Bool {
        var info = stat()
        return lstat(url.path, &info) == 0
    }

    @Test func byAgeDeletesOnlyOldInputsAndResultsItWrote() throws {
        let oldDone = try archived("0a-000001", in: scratch.done, age: 3 * Self.day)
        let oldFailed = try archived("0a-000002.1", in: scratch.failed, age: 3 * Self.day)
        let young = try archived("0a-000003", in: scratch.done, age: 60)
        let oldResult = try result("a.txt.json", age: 3 * Self.day)
        let youngResult = try result("c.txt.json", age: 60)

        // Foreign things, all old: none of them is Quern's to delete.
        let elsewhere = scratch.root.appendingPathComponent("elsewhere")
        try fileManager.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        let precious = try result("precious.json", in: elsewhere, age: 3 * Self.day)
        let foreignFolder = try archived("not-a-claim", in: scratch.done, age: 3 * Self.day)
        let linkedClaim = scratch.done.appendingPathComponent("0a-000009")
        try fileManager.createSymbolicLink(at: linkedClaim, withDestinationURL: elsewhere)
        let linkedResult = scratch.outbox.appendingPathComponent("linked.json")
        try fileManager.createSymbolicLink(at: linkedResult, withDestinationURL: precious)
        let notAResult = scratch.outbox.appendingPathComponent("notes.json")
        try Data(#"{"mine": true}"#.utf8).write(to: notAResult)
        try setAge(notAResult, 3 * Self.day)
        let other = scratch.outbox.appendingPathComponent("readme.txt")
        try Data("hello".utf8).write(to: other)
        try setAge(other, 3 * Self.day)
        let temporary = try result(".quern-0a-000004.tmp", age: 3 * Self.day)
        // A folder of results the user made: not a task folder, never entered.
        let userFolder = scratch.outbox.appendingPathComponent("mine")
        try fileManager.createDirectory(at: userFolder, withIntermediateDirectories: true)
        let userResult = try result("kept.txt.json", in: userFolder, age: 3 * Self.day)
        // A task folder swapped for a symlink is not followed.
        try fileManager.createDirectory(at: elsewhere.appendingPathComponent("sub"), withIntermediateDirectories: true)
        let behindLink = try result("d.txt.json", in: elsewhere.appendingPathComponent("sub"), age: 3 * Self.day)
        try fileManager.removeItem(at: scratch.outbox.appendingPathComponent("embed"))
        try fileManager.createSymbolicLink(at: scratch.outbox.appendingPathComponent("embed"), withDestinationURL: elsewhere.appendingPathComponent("sub"))

        let report = sweeper {
            $0.inputsMaxAge = Self.day
            $0.resultsMaxAge = Self.day
        }.sweep(now: now)

        #expect(!exists(oldDone) && !exists(oldFailed) && !exists(oldResult))
        #expect(exists(young) && exists(youngResult))
        for untouched in [precious, foreignFolder, linkedClaim, linkedResult, notAResult, other, temporary, userResult, behindLink] {
            #expect(exists(untouched), "\(untouched.path) was deleted")
        }
        #expect(report.inputs.deleted == 2 && report.inputs.deletedBytes == 20 && report.inputs.kept == 1)
        #expect(report.results.deleted == 1 && report.results.kept == 1)
        #expect(report.failures == 0)
    }

    @Test func routedResultsAreSweptToo() throws {
        let routed = try result("b.txt.json", in: scratch.outbox.appendingPathComponent("embed"), age: 3 * Self.day)
        let report = sweeper { $0.resultsMaxAge = Self.day }.sweep(now: now)
        #expect(!exists(routed))
        #expect(report.results.deleted == 1)
    }

    @Test func bySizeDeletesTheOldestFirst() throws {
        let oldest = try archived("0a-000001", in: scratch.done, bytes: 100, age: 300)
        let middle = try archived("0a-000002", in: scratch.failed, bytes: 100, age: 200)
        let newest = try archived("0a-000003", in: scratch.done, bytes: 100, age: 100)
        let oldResult = try result("a.json", bytes: 400, age: 300)
        let newResult = try result("b.json", bytes: 400, age: 100)
        let report = sweeper {
            $0.inputsMaxBytes = 250
            $0.resultsMaxBytes = 500
        }.sweep(now: now)
        #expect(!exists(oldest) && exists(middle) && exists(newest))
        #expect(!exists(oldResult) && exists(newResult))
        #expect(report.inputs == .init(deleted: 1, deletedBytes: 100, kept: 2, keptBytes: 200))
        #expect(report.results.deleted == 1 && report.results.kept == 1 && report.results.keptBytes == 400)
    }

    @Test func keepingOnlyFailedInputsEmptiesDoneAndKeepsFailed() throws {
        let done = try archived("0a-000001", in: scratch.done, age: 1)
        let failed = try archived("0a-000002", in: scratch.failed, age: 1)
        let report = sweeper { $0.keepInputs = .failed }.sweep(now: now)
        #expect(!exists(done) && exists(failed))
        #expect(report.inputs.deleted == 1 && report.inputs.kept == 1)
        // And right after a result, through the writer's hook.
        let next = try archived("0a-000003", in: scratch.done, age: 0)
        sweeper { $0.keepInputs = .failed }.inputArchived(claimID: "0a-000003", succeeded: true)
        #expect(!exists(next))
        sweeper { $0.keepInputs = .failed }.inputArchived(claimID: "0a-000002", succeeded: false)
        #expect(exists(failed))
    }

    @Test func aDirectoryInputIsDeletedWithoutFollowingTheLinksInside() throws {
        let elsewhere = scratch.root.appendingPathComponent("elsewhere")
        try fileManager.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        let precious = elsewhere.appendingPathComponent("precious.txt")
        try Data("keep".utf8).write(to: precious)
        let claim = scratch.failed.appendingPathComponent("0a-000001")
        let input = claim.appendingPathComponent("folder/inner")
        try fileManager.createDirectory(at: input, withIntermediateDirectories: true)
        try fileManager.createSymbolicLink(at: input.appendingPathComponent("link"), withDestinationURL: elsewhere)
        try Data("x".utf8).write(to: input.appendingPathComponent("file"))
        let report = sweeper { $0.keepInputs = .never }.sweep(now: now)
        #expect(!exists(claim))
        #expect(exists(precious))
        #expect(report.inputs.deleted == 1)
    }

    @Test func nothingRunsWhenEverythingIsKept() {
        #expect(!RetentionPolicy().isActive)
        #expect(sweeper { _ in }.sweep(now: now) == .init())
    }

    @Test func aResultsTranscriptSidecarsGoWithIt() throws {
        try result("talk.wav.json", age: 3 * Self.day)
        let oldSidecars = try ["talk.wav.srt", "talk.wav.vtt", "talk.wav.txt"].map { name in
            let file = scratch.outbox.appendingPathComponent(name)
            try Data(repeating: 0x61, count: 50).write(to: file)
            try setAge(file, 3 * Self.day)
            return file
        }
        try result("talk.wav.1.json", age: 60)
        let youngSidecar = scratch.outbox.appendingPathComponent("talk.wav.1.srt")
        try Data("1\n".utf8).write(to: youngSidecar)
        // An old .srt with no result of its name is not Quern's to delete.
        let stray = scratch.outbox.appendingPathComponent("other.srt")
        try Data("x".utf8).write(to: stray)
        try setAge(stray, 3 * Self.day)

        let report = sweeper { $0.resultsMaxAge = Self.day }.sweep(now: now)
        #expect(report.results.deleted == 1 && report.results.deletedBytes == 250, "\(report)")
        #expect(!exists(scratch.outbox.appendingPathComponent("talk.wav.json")))
        #expect(oldSidecars.allSatisfy { !exists($0) })
        #expect(exists(scratch.outbox.appendingPathComponent("talk.wav.1.json")) && exists(youngSidecar) && exists(stray))
    }
}
