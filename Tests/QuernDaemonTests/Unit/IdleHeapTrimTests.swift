@testable import QuernDaemon
import QuernTensor
import Synchronization
import Testing

/// The heap is trimmed once every lane has gone idle, never while a lane
/// runs a batch, and a batch starting within the delay calls the trim off.
@Suite struct IdleHeapTrimTests {
    private final class Counter: Sendable {
        let value = Mutex(0)
        var count: Int { value.withLock { $0 } }
        func add() { value.withLock { $0 += 1 } }
    }

    /// Waits (without blocking a pool thread) until `counter` reaches `count`, up to 10 s.
    private func waitFor(_ counter: Counter, toReach count: Int) async throws {
        for _ in 0..<1000 where counter.count < count {
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    @Test func trimsOnceTheLastBusyLaneGoesIdle() async throws {
        let trims = Counter()
        let trim = IdleHeapTrim(delay: .milliseconds(20)) { trims.add() }
        trim.laneStarted()
        trim.laneStarted()
        trim.laneFinished()
        // One lane still runs its batch: nothing is trimmed however long it takes.
        try await Task.sleep(for: .milliseconds(200))
        #expect(trims.count == 0)
        trim.laneFinished()
        try await waitFor(trims, toReach: 1)
        #expect(trims.count == 1)
        // Idle stays idle: no second trim without new work.
        try await Task.sleep(for: .milliseconds(200))
        #expect(trims.count == 1)
    }

    @Test func aBatchStartingWithinTheDelayCallsTheTrimOff() async throws {
        let trims = Counter()
        let trim = IdleHeapTrim(delay: .seconds(1)) { trims.add() }
        trim.laneStarted()
        trim.laneFinished()
        trim.laneStarted()  // the next batch of a queue being drained
        try await Task.sleep(for: .milliseconds(1500))
        #expect(trims.count == 0)
        trim.laneFinished()
        try await waitFor(trims, toReach: 1)
        #expect(trims.count == 1)
    }

    @Test func theRealTrimGivesFreedMemoryBack() {
        // 20 MB in blocks below the mmap threshold come from the heap; a
        // block kept after them stops them merging into the arena's top, so
        // once freed they sit in the heap, resident, until the trim returns
        // them (and says it released something).
        let blocks = (0..<200).map { _ in UnsafeMutableRawPointer.allocate(byteCount: 100 << 10, alignment: 64) }
        let fence = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
        defer { fence.deallocate() }
        for block in blocks { block.initializeMemory(as: UInt8.self, repeating: 1, count: 100 << 10) }
        for block in blocks { block.deallocate() }
        #expect(Heap.trim())
    }

    @Test func anArenaCapTheUserSetIsLeftAlone() {
        #expect(!Heap.limitArenas(to: 1, unlessSetIn: ["MALLOC_ARENA_MAX": "4"]))
        #expect(!Heap.limitArenas(to: 1, unlessSetIn: ["GLIBC_TUNABLES": "glibc.malloc.trim_threshold=0:glibc.malloc.arena_max=2"]))
    }
}
