#if canImport(Glibc)
import Glibc
#endif

/// The system calls the daemon needs, on byte paths, throwing `SystemError`.
enum FileOps {
    enum EntryType: Sendable, Equatable {
        case regular, directory, symlink, fifo, socket, characterDevice, blockDevice, unknown

        init(mode: mode_t) {
            switch mode & S_IFMT {
            case S_IFREG: self = .regular
            case S_IFDIR: self = .directory
            case S_IFLNK: self = .symlink
            case S_IFIFO: self = .fifo
            case S_IFSOCK: self = .socket
            case S_IFCHR: self = .characterDevice
            case S_IFBLK: self = .blockDevice
            default: self = .unknown
            }
        }
    }

    /// The parts of `lstat` the daemon decides by.
    struct Status: Sendable, Equatable {
        var type: EntryType
        var size: Int
        var inode: UInt64
        var device: UInt64
        var modifiedNanoseconds: Int64
        var links: Int
    }

    /// nil when the path does not exist; symlinks are described, never followed.
    static func status(_ path: [UInt8]) throws(SystemError) -> Status? {
        var info = stat()
        if lstat(Paths.c(path), &info) != 0 {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw SystemError("lstat", path)
        }
        return Status(
            type: EntryType(mode: info.st_mode), size: Int(info.st_size), inode: UInt64(info.st_ino), device: UInt64(info.st_dev),
            modifiedNanoseconds: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec), links: Int(info.st_nlink))
    }

    static func exists(_ path: [UInt8]) -> Bool {
        var info = stat()
        return lstat(Paths.c(path), &info) == 0
    }

    /// false when the source is gone (another claimer, or the user took it back).
    @discardableResult
    static func rename(_ source: [UInt8], _ destination: [UInt8]) throws(SystemError) -> Bool {
        if Glibc.rename(Paths.c(source), Paths.c(destination)) == 0 { return true }
        if errno == ENOENT { return false }
        throw SystemError("rename", source)
    }

    /// false when it already exists.
    @discardableResult
    static func makeDirectory(_ path: [UInt8]) throws(SystemError) -> Bool {
        if mkdir(Paths.c(path), 0o755) == 0 { return true }
        if errno == EEXIST { return false }
        throw SystemError("mkdir", path)
    }

    /// Creates the directory and its parents, like `mkdir -p`.
    static func makeDirectories(_ path: [UInt8]) throws(SystemError) {
        var prefix: [UInt8] = []
        for (index, byte) in path.enumerated() {
            prefix.append(byte)
            let atEnd = index == path.count - 1
            if (byte == UInt8(ascii: "/") || atEnd), prefix.count > 1 {
                if mkdir(Paths.c(prefix), 0o755) != 0, errno != EEXIST { throw SystemError("mkdir", prefix) }
            }
        }
        guard try status(path)?.type == .directory else { throw SystemError("mkdir", path, code: ENOTDIR) }
    }

    static func removeFile(_ path: [UInt8]) throws(SystemError) {
        if unlink(Paths.c(path)) != 0, errno != ENOENT { throw SystemError("unlink", path) }
    }

    static func removeDirectory(_ path: [UInt8]) throws(SystemError) {
        if rmdir(Paths.c(path)) != 0, errno != ENOENT { throw SystemError("rmdir", path) }
    }

    /// Makes a directory's entries (creations, renames) durable.
    static func syncDirectory(_ path: [UInt8]) throws(SystemError) {
        let descriptor = open(Paths.c(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw SystemError("open", path) }
        defer { close(descriptor) }
        if fsync(descriptor) != 0 { throw SystemError("fsync", path) }
    }

    /// Creates (or empties) a file, writes all of `bytes`, fsyncs and closes it.
    static func writeDurably(_ path: [UInt8], _ bytes: [UInt8]) throws(SystemError) {
        let descriptor = open(Paths.c(path), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard descriptor >= 0 else { throw SystemError("open", path) }
        defer { close(descriptor) }
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { raw in
                Glibc.write(descriptor, raw.baseAddress.map { $0 + written }, bytes.count - written)
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw SystemError("write", path)
            }
            written += count
        }
        if fsync(descriptor) != 0 { throw SystemError("fsync", path) }
    }

    /// Creates an empty marker file (not synced; callers sync its directory).
    static func touch(_ path: [UInt8]) throws(SystemError) {
        let descriptor = open(Paths.c(path), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard descriptor >= 0 else { throw SystemError("open", path) }
        close(descriptor)
    }

    enum ReadOutcome {
        case bytes([UInt8])
        /// More than `limit` bytes: not read further.
        case tooLarge(Int)
    }

    /// Reads a regular file without following a symlink and without blocking
    /// on a FIFO swapped in after the type check (O_NONBLOCK, O_NOFOLLOW).
    static func readFile(_ path: [UInt8], limit: Int) throws(SystemError) -> ReadOutcome {
        let descriptor = open(Paths.c(path), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard descriptor >= 0 else { throw SystemError("open", path) }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw SystemError("fstat", path) }
        guard info.st_mode & S_IFMT == S_IFREG else { throw SystemError("read", path, code: EINVAL) }
        if Int(info.st_size) > limit { return .tooLarge(Int(info.st_size)) }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        var filled = 0
        while true {
            if filled == bytes.count {
                // The size fstat gave is read. The file may have grown since:
                // probe with a small read before growing the buffer, so a file
                // that did not grow costs its size in memory, not 1.5 times it.
                var probe = [UInt8](repeating: 0, count: 4096)
                let extra = probe.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
                if extra < 0 {
                    if errno == EINTR { continue }
                    throw SystemError("read", path)
                }
                if extra == 0 { break }
                if bytes.count + extra > limit { return .tooLarge(bytes.count + extra) }
                bytes.append(contentsOf: probe[0..<extra])
                filled += extra
                bytes.append(contentsOf: repeatElement(0, count: max(4096, bytes.count / 2)))
            }
            let count = bytes.withUnsafeMutableBytes { raw in
                Glibc.read(descriptor, raw.baseAddress.map { $0 + filled }, raw.count - filled)
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw SystemError("read", path)
            }
            if count == 0 { break }
            filled += count
        }
        bytes.removeSubrange(filled...)
        if filled > limit { return .tooLarge(filled) }
        return .bytes(bytes)
    }

    /// Up to `count` bytes from the start of a regular file (never following
    /// a symlink, never blocking on a FIFO).
    static func readPrefix(_ path: [UInt8], count: Int) throws(SystemError) -> [UInt8] {
        let descriptor = open(Paths.c(path), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard descriptor >= 0 else { throw SystemError("open", path) }
        defer { close(descriptor) }
        var bytes = [UInt8](repeating: 0, count: count)
        let read = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard read >= 0 else { throw SystemError("pread", path) }
        return Array(bytes[0..<read])
    }

    /// Calls `body` with each entry name of a directory (not `.`/`..`), as
    /// they are read: a huge directory is never held in memory at once.
    /// `body` returns false to stop early.
    static func forEachEntry(_ directory: [UInt8], _ body: ([UInt8]) -> Bool) throws(SystemError) {
        guard let stream = opendir(Paths.c(directory)) else { throw SystemError("opendir", directory) }
        defer { closedir(stream) }
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw -> [UInt8] in
                Array(raw.prefix { $0 != 0 })
            }
            if name == [0x2E] || name == [0x2E, 0x2E] { continue }
            if !body(name) { return }
        }
    }
}
