#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The memory of every tensor and bfloat16 buffer: small ones from the C
/// heap, large ones (1 MiB and up) mapped straight from the kernel and kept
/// for reuse once freed, up to 64 MiB (`LargeBufferCache`).
///
/// Why not the C heap for everything: a model's forward pass frees and
/// allocates buffers of a few sizes (Whisper's encoder: 2.3, 6.9 and 9 MB,
/// layer after layer) among long-lived smaller ones, and glibc places them
/// wherever they fit. Transcribing the speech corpus held at most 70 MB at
/// once (heaptrack) while glibc's heap grew to 216 MB resident, and to
/// 340 MB with one arena per thread. Mapping every large buffer afresh
/// (glibc's `M_MMAP_THRESHOLD`) ended the growth but zero-filled each one
/// page by page on first touch: the encoder took 1.4× as long. Here each
/// size class keeps its freed buffers, so the next layer reuses the same
/// pages without a fault, and what is resident is what is live plus at
/// most the cache's limit.
enum LargeBuffers {
    /// Buffers below this many bytes come from the C heap.
    static let threshold = 1 << 20
    /// The process's freed large buffers: at most 64 MiB.
    static let shared = LargeBufferCache(limit: 64 << 20)

    /// A large request rounded up to an eighth of its power of two (at most
    /// 12.5 % more address space, never more memory touched), so that
    /// nearly equal sizes share their buffers.
    static func sizeClass(_ byteCount: Int) -> Int {
        let power = 1 << (Int.bitWidth - 1 - byteCount.leadingZeroBitCount)
        let step = max(power / 8, 1 << 12)
        return (byteCount + step - 1) / step * step
    }

    /// 64-byte aligned memory for `byteCount` bytes (at least one), all zero
    /// when `zeroed`. Give it back with `deallocate(_:byteCount:)` and the
    /// same count.
    static func allocate(byteCount: Int, zeroed: Bool, cache: LargeBufferCache = shared) -> UnsafeMutableRawPointer {
        let byteCount = max(byteCount, 1)
        guard byteCount >= threshold else {
            let pointer = UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 64)
            if zeroed { pointer.initializeMemory(as: UInt8.self, repeating: 0, count: byteCount) }
            return pointer
        }
        let size = sizeClass(byteCount)
        if let reused = cache.take(size: size) {
            if zeroed { reused.initializeMemory(as: UInt8.self, repeating: 0, count: byteCount) }
            return reused
        }
        // Freshly mapped pages read as zero: no fill needed.
        return map(size, cache: cache)
    }

    /// Gives back memory from `allocate(byteCount:zeroed:)`.
    static func deallocate(_ pointer: UnsafeMutableRawPointer, byteCount: Int, cache: LargeBufferCache = shared) {
        let byteCount = max(byteCount, 1)
        guard byteCount >= threshold else {
            pointer.deallocate()
            return
        }
        if releasedFromHeap(pointer) {
            pointer.deallocate()
            return
        }
        cache.keep(pointer, size: sizeClass(byteCount))
    }

    /// Large buffers that came from the C heap because no mapping could be
    /// made; `heapFallbackCount` lets `deallocate` skip the lookup while
    /// there are none, which is always unless mmap failed.
    private static let heapFallbacks = Mutex<Set<UnsafeMutableRawPointer>>([])
    private static let heapFallbackCount = Atomic<Int>(0)

    private static func map(_ size: Int, cache: LargeBufferCache) -> UnsafeMutableRawPointer {
        for attempt in 0..<2 {
            let mapped = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
            if let mapped, mapped != MAP_FAILED { return mapped }
            // Out of memory, or of mappings (vm.max_map_count): the cached
            // buffers go back first, then the request is tried once more.
            if attempt == 0 { cache.drain() }
        }
        // Then the C heap, zero-filled as a fresh mapping would be; it fails
        // the way every other allocation does if memory is truly exhausted.
        let pointer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
        pointer.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        heapFallbacks.withLock { _ = $0.insert(pointer) }
        heapFallbackCount.add(1, ordering: .relaxed)
        return pointer
    }

    /// Whether `pointer` came from the C heap fallback (and is now forgotten).
    private static func releasedFromHeap(_ pointer: UnsafeMutableRawPointer) -> Bool {
        guard heapFallbackCount.load(ordering: .relaxed) > 0, heapFallbacks.withLock({ $0.remove(pointer) != nil }) else { return false }
        heapFallbackCount.subtract(1, ordering: .relaxed)
        return true
    }
}

/// Freed large buffers, by size class, kept for reuse up to `limit` bytes.
final class LargeBufferCache: Sendable {
    let limit: Int
    /// Oldest first.
    private let free = Mutex<(buffers: [(size: Int, pointer: UnsafeMutableRawPointer)], bytes: Int)>(([], 0))

    init(limit: Int) { self.limit = limit }

    deinit { drain() }

    /// The most recently freed buffer of `size` bytes (its pages are the
    /// likeliest to be in the CPU's caches), or nil.
    func take(size: Int) -> UnsafeMutableRawPointer? {
        free.withLock { free in
            guard let index = free.buffers.lastIndex(where: { $0.size == size }) else { return nil }
            free.bytes -= size
            return free.buffers.remove(at: index).pointer
        }
    }

    /// Keeps a freed buffer of `size` bytes. Past `limit` the buffers freed
    /// longest ago are unmapped: a model's layers repeat, so the sizes just
    /// freed are the ones asked for next.
    func keep(_ pointer: UnsafeMutableRawPointer, size: Int) {
        let evicted = free.withLock { free -> ArraySlice<(size: Int, pointer: UnsafeMutableRawPointer)> in
            free.buffers.append((size, pointer))
            free.bytes += size
            var count = 0
            while free.bytes > limit {
                free.bytes -= free.buffers[count].size
                count += 1
            }
            let evicted = free.buffers[..<count]
            free.buffers.removeFirst(count)
            return evicted
        }
        for buffer in evicted { munmap(buffer.pointer, buffer.size) }
    }

    /// Unmaps every buffer kept (when the process goes idle). Whether there was any.
    @discardableResult
    func drain() -> Bool {
        let buffers = free.withLock { free in
            defer { free = ([], 0) }
            return free.buffers
        }
        for buffer in buffers { munmap(buffer.pointer, buffer.size) }
        return !buffers.isEmpty
    }

    /// Bytes of freed buffers kept.
    var bytes: Int { free.withLock { $0.bytes } }
}
