#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The memory of every tensor and bfloat16 buffer: small ones from the C
/// heap, large ones (1 MiB and up) mapped straight from the kernel and kept
/// for reuse once freed, up to `cacheLimit` bytes.
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
/// most `cacheLimit`.
enum LargeBuffers {
    /// Buffers below this many bytes come from the C heap.
    static let threshold = 1 << 20
    /// Bytes of freed large buffers kept for reuse; beyond it a freed buffer
    /// is unmapped at once.
    static let cacheLimit = 64 << 20

    /// Freed buffers, oldest first.
    private struct Cache: ~Copyable {
        var free: [(size: Int, pointer: UnsafeMutableRawPointer)] = []
        var bytes = 0
    }

    private static let cache = Mutex(Cache())

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
    static func allocate(byteCount: Int, zeroed: Bool) -> UnsafeMutableRawPointer {
        let byteCount = max(byteCount, 1)
        guard byteCount >= threshold else {
            let pointer = UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 64)
            if zeroed { pointer.initializeMemory(as: UInt8.self, repeating: 0, count: byteCount) }
            return pointer
        }
        let size = sizeClass(byteCount)
        // The most recently freed buffer of the class: its pages are the
        // likeliest to be in cache.
        let reused = cache.withLock { cache -> UnsafeMutableRawPointer? in
            guard let index = cache.free.lastIndex(where: { $0.size == size }) else { return nil }
            cache.bytes -= size
            return cache.free.remove(at: index).pointer
        }
        if let reused {
            if zeroed { reused.initializeMemory(as: UInt8.self, repeating: 0, count: byteCount) }
            return reused
        }
        // Freshly mapped pages read as zero: no fill needed.
        return map(size)
    }

    /// Gives back memory from `allocate(byteCount:zeroed:)`. Past
    /// `cacheLimit` the buffers freed longest ago are unmapped: a model's
    /// layers repeat, so the sizes just freed are the ones asked for next.
    static func deallocate(_ pointer: UnsafeMutableRawPointer, byteCount: Int) {
        let byteCount = max(byteCount, 1)
        guard byteCount >= threshold else {
            pointer.deallocate()
            return
        }
        let size = sizeClass(byteCount)
        let evicted = cache.withLock { cache -> [(size: Int, pointer: UnsafeMutableRawPointer)] in
            cache.free.append((size, pointer))
            cache.bytes += size
            var count = 0, bytes = cache.bytes
            while bytes > cacheLimit {
                bytes -= cache.free[count].size
                count += 1
            }
            guard count > 0 else { return [] }
            let evicted = Array(cache.free[..<count])
            cache.free.removeFirst(count)
            cache.bytes = bytes
            return evicted
        }
        for buffer in evicted { munmap(buffer.pointer, buffer.size) }
    }

    /// Unmaps every cached buffer (when the process goes idle). Whether any was.
    @discardableResult
    static func drain() -> Bool {
        let buffers = cache.withLock { cache -> [(size: Int, pointer: UnsafeMutableRawPointer)] in
            let all = cache.free
            cache.free = []
            cache.bytes = 0
            return all
        }
        for buffer in buffers { munmap(buffer.pointer, buffer.size) }
        return !buffers.isEmpty
    }

    /// Bytes of freed buffers held for reuse.
    static var cachedBytes: Int { cache.withLock { $0.bytes } }

    private static func map(_ size: Int) -> UnsafeMutableRawPointer {
        for attempt in 0..<2 {
            let mapped = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
            if let mapped, mapped != MAP_FAILED { return mapped }
            // Out of address space or memory: the cached buffers go back
            // first, then the request is tried once more.
            if attempt == 0 { drain() }
        }
        // As the C heap does when it cannot allocate: nothing can continue.
        fatalError("LargeBuffers: cannot map \(size) bytes: \(String(cString: strerror(errno)))")
    }
}
