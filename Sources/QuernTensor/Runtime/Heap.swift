#if canImport(Glibc)
import Glibc
#endif

/// The C heap (glibc's malloc), where every tensor's values live.
///
/// glibc keeps freed memory for reuse rather than giving it back: a large
/// buffer freed once raises its mmap threshold (up to 32 MiB), so later
/// activations of that size come from the heap and stay resident after they
/// are freed. A model's forward pass frees tens to hundreds of MB of
/// activations, so an idle daemon would keep them all until told to return
/// them.
public enum Heap {
    /// Returns the whole pages of freed heap memory, in every arena, to the
    /// kernel now (`malloc_trim(0)`). The next allocations fault their pages
    /// in again, so call it when the memory is not about to be reused.
    /// Whether any memory was released. Looked up at run time, so a libc
    /// without it (musl) simply skips the trim.
    /// The large buffers kept for reuse (`LargeBuffers.shared`) are unmapped first.
    @discardableResult
    public static func trim() -> Bool {
        let drained = LargeBuffers.shared.drain()
        #if canImport(Glibc)
        typealias MallocTrim = @convention(c) (Int) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return drained }
        return unsafeBitCast(symbol, to: MallocTrim.self)(0) != 0 || drained
        #else
        return drained
        #endif
    }

    /// Caps glibc's malloc arenas at `count` (`mallopt(M_ARENA_MAX)`) unless
    /// the user set a cap (`MALLOC_ARENA_MAX`, or `glibc.malloc.arena_max`
    /// in `GLIBC_TUNABLES`) in `environment`. Whether the cap was set.
    ///
    /// Each thread that allocates gets an arena of its own (up to 8 per
    /// core), and `trim` cannot return the free space at the top of a
    /// thread's arena (glibc only trims the main arena's top): a daemon whose
    /// lanes and compute threads each ran a model kept 15–40 MB per arena
    /// after every trim, so its resident size after the idle unload, and with
    /// its models loaded, varied by tens of MB from run to run. With one
    /// arena everything freed can be trimmed. Lanes then share the arena's
    /// lock, but most allocations are small and served by glibc's per-thread
    /// cache without it; a mixed burst with four lanes busy made no more
    /// futex calls with one arena than with the default (20 367 against
    /// 21 368, `strace -f -c`). Takes effect for threads that have not
    /// allocated yet: call it first thing.
    @discardableResult
    public static func limitArenas(to count: Int, unlessSetIn environment: [String: String]) -> Bool {
        if environment["MALLOC_ARENA_MAX"] != nil || environment["GLIBC_TUNABLES"]?.contains("glibc.malloc.arena_max") == true {
            return false
        }
        #if canImport(Glibc)
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard count >= 1, let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return false }
        let arenaMax: Int32 = -8  // M_ARENA_MAX in glibc's malloc.h
        return unsafeBitCast(symbol, to: Mallopt.self)(arenaMax, Int32(clamping: count)) == 1
        #else
        return false
        #endif
    }
}
