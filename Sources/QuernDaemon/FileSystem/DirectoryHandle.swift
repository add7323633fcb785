#if canImport(Glibc)
import Glibc
#endif

/// An open directory that was not reached through a symlink, and the
/// `*at(2)` calls relative to it. Task folders in the inbox and the
/// retention sweeper work through these, so a folder swapped for a symlink
/// (by anyone who can write the inbox) never leads them anywhere else: the
/// open fails (`O_NOFOLLOW`), and entries below are looked at with
/// `AT_SYMLINK_NOFOLLOW`.
final class DirectoryHandle {
    let path: [UInt8]
    let descriptor: Int32

    /// nil when `path` does not exist, or is not a directory, or is a symlink.
    init?(_ path: [UInt8]) {
        let descriptor = open(Paths.c(path), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        self.path = path
        self.descriptor = descriptor
    }

    private init(path: [UInt8], descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// The entry `name` below, as a directory: nil unless it is a real one.
    func subdirectory(_ name: [UInt8]) -> DirectoryHandle? {
        let child = openat(descriptor, Paths.c(name), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard child >= 0 else { return nil }
        return DirectoryHandle(path: Paths.join(path, name), descriptor: child)
    }

    /// The directory's own (device, inode).
    var identity: (device: UInt64, inode: UInt64)? {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return nil }
        return (UInt64(info.st_dev), UInt64(info.st_ino))
    }

    /// nil when `name` does not exist; a symlink is described, never followed.
    func status(_ name: [UInt8]) throws(SystemError) -> FileOps.Status? {
        var info = stat()
        if fstatat(descriptor, Paths.c(name), &info, AT_SYMLINK_NOFOLLOW) != 0 {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw SystemError("lstat", Paths.join(path, name))
        }
        return FileOps.Status(
            type: FileOps.EntryType(mode: info.st_mode), size: Int(info.st_size), inode: UInt64(info.st_ino), device: UInt64(info.st_dev),
            modifiedNanoseconds: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec), links: Int(info.st_nlink))
    }

    /// Moves `name` out to `destination`; false when it is gone.
    func rename(_ name: [UInt8], to destination: [UInt8]) throws(SystemError) -> Bool {
        if renameat(descriptor, Paths.c(name), AT_FDCWD, Paths.c(destination)) == 0 { return true }
        if errno == ENOENT { return false }
        throw SystemError("rename", Paths.join(path, name))
    }

    func forEachEntry(_ body: ([UInt8]) -> Bool) throws(SystemError) {
        // fdopendir takes the descriptor over: give it a copy of its own.
        let copy = dup(descriptor)
        guard copy >= 0, let stream = fdopendir(copy) else {
            if copy >= 0 { close(copy) }
            throw SystemError("opendir", path)
        }
        defer { closedir(stream) }
        rewinddir(stream)
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw -> [UInt8] in Array(raw.prefix { $0 != 0 }) }
            if name == [0x2E] || name == [0x2E, 0x2E] { continue }
            if !body(name) { return }
        }
    }

    func removeFile(_ name: [UInt8]) throws(SystemError) {
        if unlinkat(descriptor, Paths.c(name), 0) != 0, errno != ENOENT { throw SystemError("unlink", Paths.join(path, name)) }
    }

    /// Removes `name` and, if it is a real directory, everything in it — never
    /// following a symlink (a link is removed, not what it points to).
    /// Returns the bytes of the regular files removed.
    @discardableResult
    func removeTree(_ name: [UInt8], depth: Int = 0) throws(SystemError) -> Int {
        guard let found = try status(name) else { return 0 }
        guard found.type == .directory else {
            try removeFile(name)
            return found.type == .regular ? found.size : 0
        }
        // Deeper than any claim needs: a directory input nested this deep is left as it is.
        guard depth < 64, let child = subdirectory(name) else {
            // Gone meanwhile (another deletion got there first) is no failure.
            if try self.status(name) == nil { return 0 }
            throw SystemError("rmdir", Paths.join(path, name), code: depth < 64 ? errno : ELOOP)
        }
        var entries: [[UInt8]] = []
        try child.forEachEntry { entries.append($0); return true }
        var bytes = 0
        for entry in entries { bytes += try child.removeTree(entry, depth: depth + 1) }
        if unlinkat(descriptor, Paths.c(name), AT_REMOVEDIR) != 0, errno != ENOENT { throw SystemError("rmdir", Paths.join(path, name)) }
        return bytes
    }

    /// Up to `count` bytes from the start of the regular file `name` (never
    /// following a symlink, never blocking on a FIFO); empty when unreadable.
    func readPrefix(_ name: [UInt8], count: Int) -> [UInt8] {
        let file = openat(descriptor, Paths.c(name), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard file >= 0 else { return [] }
        defer { close(file) }
        var bytes = [UInt8](repeating: 0, count: count)
        let read = bytes.withUnsafeMutableBytes { pread(file, $0.baseAddress, $0.count, 0) }
        return read > 0 ? Array(bytes[0..<read]) : []
    }

    /// The bytes of the regular files in `name` and below (not following symlinks).
    func treeSize(_ name: [UInt8], depth: Int = 0) -> Int {
        guard let found = try? status(name) else { return 0 }
        if found.type == .regular { return found.size }
        guard found.type == .directory, depth < 64, let child = subdirectory(name) else { return 0 }
        var bytes = 0
        try? child.forEachEntry { entry in
            bytes += child.treeSize(entry, depth: depth + 1)
            return true
        }
        return bytes
    }
}
