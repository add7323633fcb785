#if canImport(Glibc)
import Glibc
#endif

/// A read-only memory mapping of a whole file. Model weights stay in the page
/// cache and are shared between processes; nothing is copied at load time.
/// Every read goes through `bytes(at:count:)`, which checks the range.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let size: Int
    let base: UnsafeRawPointer?

    public init(path: String) throws(TensorError) {
        self.path = path
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .io(path: path, reason: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw .io(path: path, reason: String(cString: strerror(errno))) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw .io(path: path, reason: "not a regular file") }
        size = Int(info.st_size)
        if size == 0 {
            base = nil
            return
        }
        let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0)
        guard let mapped, mapped != MAP_FAILED else {
            throw .io(path: path, reason: "mmap failed: \(String(cString: strerror(errno)))")
        }
        base = UnsafeRawPointer(mapped)
    }

    deinit {
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), size) }
    }

    /// The bytes `offset ..< offset + count`, or an error naming `what` when
    /// the range does not lie inside the file.
    public func bytes(at offset: Int, count: Int, what: String) throws(TensorError) -> UnsafeRawBufferPointer {
        guard offset >= 0, count >= 0, offset <= size, count <= size - offset else {
            throw .byteCountMismatch(what: "\(what) at offset \(offset)", expected: count, actual: max(0, size - max(offset, 0)))
        }
        guard let base else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: base + offset, count: count)
    }

    /// Drops the pages wholly inside `region` (which must lie in this file)
    /// from this process's memory; they are read again from the file if
    /// touched. For weights that were copied into another layout.
    public func release(_ region: UnsafeRawBufferPointer) {
        guard let base, let start = region.baseAddress, start >= base, start + region.count <= base + size else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let first = (Int(bitPattern: start) + page - 1) / page * page
        let last = (Int(bitPattern: start) + region.count) / page * page
        if last > first { madvise(UnsafeMutableRawPointer(bitPattern: first), last - first, MADV_DONTNEED) }
    }

    /// Tells the kernel the whole file will be read soon (weights at start-up).
    public func prefetch() {
        if let base { madvise(UnsafeMutableRawPointer(mutating: base), size, MADV_WILLNEED) }
    }
}
