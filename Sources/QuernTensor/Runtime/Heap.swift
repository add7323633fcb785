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
/// them. (What `malloc_trim` cannot return is the free space at the top of
/// each thread's own arena: only the main arena's top is trimmed.)
public enum Heap {
    /// Returns the whole pages of freed heap memory, in every arena, to the
    /// kernel now (`malloc_trim(0)`). The next allocations fault their pages
    /// in again, so call it when the memory is not about to be reused.
    /// Whether any memory was released. Looked up at run time, so a libc
    /// without it (musl) simply skips the trim.
    @discardableResult
    public static func trim() -> Bool {
        #if canImport(Glibc)
        typealias MallocTrim = @convention(c) (Int) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return false }
        return unsafeBitCast(symbol, to: MallocTrim.self)(0) != 0
        #else
        return false
        #endif
    }
}
