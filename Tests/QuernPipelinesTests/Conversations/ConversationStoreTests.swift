import Foundation
import QuernModels
import QuernTensor
@testable import QuernPipelines
import Testing

@Suite struct ConversationStoreTests {
    private func folder() throws -> String {
        let path = NSTemporaryDirectory() + "quern-conversations-\(UInt64.random(in: 0...UInt64.max))"
        return path
    }

    private func user(_ text: String) -> ChatMessage { ChatMessage(role: .user, content: text) }
    private func assistant(_ text: String) -> ChatMessage { ChatMessage(role: .assistant, content: text) }

    @Test func idsAreHeldToASafeAlphabet() {
        for good in ["a", "trip-2026", "A.b_c-9", String(repeating: "x", count: 128)] { #expect(ConversationID.problem(with: good) == nil, "\(good)") }
        for bad in ["", ".", "..", "../etc", "a/b", ".hidden", "-x", "_x", "é", "a b", "a\u{0}b", String(repeating: "x", count: 129)] {
            #expect(ConversationID.problem(with: bad) != nil, "\(bad.debugDescription)")
        }
    }

    @Test func turnsAreAppendedDurablyAndForgotten() throws {
        let directory = try folder()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try ConversationStore(directory: directory + "/nested/conversations")
        #expect(try store.messages(of: "c1").isEmpty)
        #expect(try store.append([ChatMessage(role: .system, content: "Be brief."), user("Hi"), assistant("Hello")], to: "c1")
                == ConversationStore.Appended(messages: 3, dropped: 0))
        #expect(try store.append([user("Again"), assistant("Yes")], to: "c1").messages == 5)
        // A second store on the folder (a restart) reads what the first wrote.
        let reopened = try ConversationStore(directory: directory + "/nested/conversations")
        #expect(try reopened.messages(of: "c1").map(\.content) == ["Be brief.", "Hi", "Hello", "Again", "Yes"])
        // Nothing but the conversation's file is left (no temporary files).
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/nested/conversations") == ["c1.json"])
        #expect(try reopened.forget("c1") == 5)
        #expect(try reopened.forget("c1") == nil)
        #expect(try reopened.messages(of: "c1").isEmpty)
    }

    /// An input run again after a crash (the same claim) replaces the turn
    /// its first run stored, and its prompt is built without it.
    @Test func aTurnRunAgainReplacesWhatItsFirstRunStored() throws {
        let directory = try folder()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try ConversationStore(directory: directory)
        try store.append([user("u1"), assistant("a1")], to: "c", key: "claim-1")
        try store.append([user("u2"), assistant("first run")], to: "c", key: "claim-2")
        #expect(try store.messages(of: "c", excludingTurn: "claim-2").map(\.content) == ["u1", "a1"])
        #expect(try store.messages(of: "c", excludingTurn: "claim-1").count == 4)  // only the newest turn is replaceable
        #expect(try store.append([user("u2"), assistant("second run")], to: "c", key: "claim-2").messages == 4)
        #expect(try store.messages(of: "c").map(\.content) == ["u1", "a1", "u2", "second run"])
        try store.append([user("u3"), assistant("a3")], to: "c", key: "claim-3")
        #expect(try store.messages(of: "c").count == 6)
    }

    @Test func theOldestTurnsGoBeyondTheBoundsAndTheSystemMessageStays() throws {
        let directory = try folder()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try ConversationStore(directory: directory, maximumMessages: 5, maximumBytes: 1 << 20)
        try store.append([ChatMessage(role: .system, content: "S"), user("u1"), assistant("a1")], to: "c")
        try store.append([user("u2"), assistant("a2")], to: "c")
        let appended = try store.append([user("u3"), assistant("a3")], to: "c")
        #expect(appended == ConversationStore.Appended(messages: 5, dropped: 2))
        #expect(try store.messages(of: "c").map(\.content) == ["S", "u2", "a2", "u3", "a3"])
        // The byte bound drops whole turns too.
        let small = try ConversationStore(directory: directory + "/small", maximumMessages: 100, maximumBytes: 40)
        try small.append([user(String(repeating: "a", count: 20)), assistant("b")], to: "c")
        try small.append([user(String(repeating: "c", count: 20)), assistant("d")], to: "c")
        #expect(try small.messages(of: "c").map(\.content) == [String(repeating: "c", count: 20), "d"])
    }

    @Test func aSymlinkOrABrokenFileIsAnErrorNamingTheFile() throws {
        let directory = try folder()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try ConversationStore(directory: directory)
        try FileManager.default.createSymbolicLink(atPath: directory + "/link.json", withDestinationPath: "/etc/passwd")
        #expect(throws: QuernError.self) { try store.messages(of: "link") }
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: directory + "/broken.json"))
        do {
            _ = try store.messages(of: "broken")
            Issue.record("a broken file was read")
        } catch {
            #expect(error.message.contains(directory + "/broken.json") && error.message.contains("forget"))
        }
        // forget clears a broken conversation so it can start afresh.
        #expect(try store.forget("broken") == 0)
        #expect(try store.messages(of: "broken").isEmpty)
    }

    @Test func theCacheKeepsTheSharedPrefixAndEvictsTheLeastRecentlyUsed() throws {
        func state(_ tokens: Int) -> DecoderState {
            let state = DecoderState(layers: 1, capacity: 16, heads: 1, headDimension: 4)
            state.caches[0].truncate(to: 0)
            for _ in 0..<tokens { try? state.caches[0].append(keys: .init(zeros: [1, 1, 4]), values: .init(zeros: [1, 1, 4])) }
            return state
        }
        let bytes = state(0).allocatedBytes
        let cache = ConversationPrefixCache(limitBytes: 2 * bytes)
        cache.put("a", tokens: [1, 2, 3, 4, 5], state: state(5))
        // Only the ids the new prompt shares are used, and one prompt token is left to run.
        let taken = try #require(cache.take("a", for: [1, 2, 3, 9, 9]))
        #expect(taken.count == 3)
        #expect(cache.take("a", for: [1, 2, 3]) == nil)  // taken out
        cache.put("a", tokens: [1, 2, 3], state: state(3))
        #expect(cache.take("a", for: [1, 2, 3])?.count == 2)
        #expect(cache.take("b", for: [1, 2]) == nil)
        cache.put("a", tokens: [1, 2], state: state(2))
        cache.put("b", tokens: [1, 2], state: state(2))
        cache.put("c", tokens: [1, 2], state: state(2))  // evicts a, the oldest
        #expect(cache.usage.conversations == 2 && cache.usage.bytes == 2 * bytes)
        #expect(cache.take("a", for: [1, 2, 3]) == nil)
        #expect(cache.take("b", for: [1, 2, 3])?.count == 2)
        #expect(cache.take("x", for: [7]) == nil)
    }

    /// The cache charges what it holds to the daemon's memory budget and
    /// keeps a state only when it fits there.
    @Test func theCacheStaysWithinTheMemoryBudget() throws {
        let state = { DecoderState(layers: 2, capacity: 8, heads: 1, headDimension: 4) }
        let bytes = state().allocatedBytes
        let budget = MemoryBudget(capacity: 3 * bytes)
        let cache = ConversationPrefixCache(limitBytes: 10 * bytes)
        cache.share(budget)
        budget.reserveModel(bytes)  // a model holds a third
        func filled() -> DecoderState {
            let s = state()
            for cache in s.caches { try? cache.append(keys: Tensor(zeros: [2, 1, 4]), values: Tensor(zeros: [2, 1, 4])) }
            return s
        }
        cache.put("a", tokens: [1, 2], state: filled())
        cache.put("b", tokens: [1, 2], state: filled())
        #expect(budget.reserved == 3 * bytes && cache.usage.conversations == 2)
        cache.put("c", tokens: [1, 2], state: filled())  // evicts a to fit
        #expect(budget.reserved == 3 * bytes && cache.usage.conversations == 2)
        #expect(cache.take("a", for: [1, 2, 3]) == nil)
        _ = cache.take("b", for: [1, 2, 3])
        #expect(budget.reserved == 2 * bytes)
        cache.removeAll()
        #expect(budget.reserved == bytes)
    }
}
