#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A read-only memory mapping of a whole file. Model weights stay in the page
/// cache and are shared between processes; nothing is copied at load time.
/// Every read goes through `bytes(at:count:)`, which checks the range.
///
/// A file truncated in place while it is mapped makes the next touch of a
/// page past its new end raise SIGBUS. Replacing a model by renaming a new
/// file over it is safe (the mapping keeps the old inode). To catch the unsafe
/// way, each mapping keeps its descriptor, and `truncatedFiles()` names the
/// live mappings whose inode no longer holds all the mapped bytes: the daemon
/// asks before every batch and stops rather than touch them.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let size: Int
    let base: UnsafeRawPointer?
    /// Kept open to ask the mapped inode (not whatever the path names now) its size.
    private let descriptor: Int32

    private struct WeakReference { weak var file: MappedFile? }
    private static let live = Mutex<[ObjectIdentifier: WeakReference]>([:])

    /// Paths of live mappings whose file has shrunk since it was mapped.
    public static func truncatedFiles() -> [String] {
        let files = live.withLock { $0.values.compactMap(\.file) }
        return files.filter { file in
            var info = stat()
            return fstat(file.descriptor, &info) != 0 || Int(info.st_size) < file.size
        }.map(\.path)
    }

    public init(path: String) throws(TensorError) {
        self.path = path
        // Only regular files: opening a FIFO would block until a writer
        // appears (forever), a device could be endless. stat() follows a
        // symlinked model file, as it should; O_NONBLOCK covers a FIFO swapped
        // in between the two calls (it has no effect on regular files).
        var target = stat()
        guard stat(path, &target) == 0 else { throw .io(path: path, reason: String(cString: strerror(errno))) }
        guard (target.st_mode & S_IFMT) == S_IFREG else { throw .io(path: path, reason: "not a regular file (a FIFO, device or directory); model files must be regular files") }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { throw .io(path: path, reason: String(cString: strerror(errno))) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw .io(path: path, reason: reason)
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            close(descriptor)
            throw .io(path: path, reason: "not a regular file")
        }
        size = Int(info.st_size)
        if size == 0 {
            base = nil
        } else {
            let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0)
            guard let mapped, mapped != MAP_FAILED else {
                let reason = String(cString: strerror(errno))
                close(descriptor)
                throw .io(path: path, reason: "mmap failed: \(reason)")
            }
            base = UnsafeRawPointer(mapped)
        }
        self.descriptor = descriptor
        Self.live.withLock { $0[ObjectIdentifier(self)] = WeakReference(file: self) }
    }

    deinit {
        Self.live.withLock { $0[ObjectIdentifier(self)] = nil }
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), size) }
        close(descriptor)
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
