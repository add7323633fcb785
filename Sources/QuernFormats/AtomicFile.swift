#if canImport(Glibc)
import Glibc
#endif

/// Writes a file so that a reader (or the next start after a crash) sees
/// either the old file or the whole new one, never part of it: the bytes go
/// to a temporary name in the same folder, are fsynced, renamed over the
/// target (`rename(2)` is atomic within a file system, NFS included), and the
/// folder is fsynced so the rename itself survives a power cut.
///
/// The layers above the formats write with it: a head's files, feature
/// caches. (The daemon's results have their own, claim-aware publication.)
public enum AtomicFile {
    /// Writes `bytes` to `path`, replacing any file there.
    public static func write(_ bytes: [UInt8], to path: String) throws(FormatError) {
        let (folder, name) = split(path)
        let temporary = folder + "/" + temporaryName(for: name)
        do throws(FormatError) {
            try writeDurably(bytes, to: temporary)
            guard rename(temporary, path) == 0 else { throw FormatError(.io, file: path, "cannot rename the written file into place: \(reason())") }
            try syncDirectory(folder)
        } catch {
            unlink(temporary)
            throw error
        }
    }

    /// Creates `path` (it must not exist), writes all of `bytes`, fsyncs and
    /// closes it. A symlink at `path` is not followed.
    public static func writeDurably(_ bytes: [UInt8], to path: String) throws(FormatError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard descriptor >= 0 else { throw FormatError(.io, file: path, "cannot create the file: \(reason())") }
        defer { close(descriptor) }
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw FormatError(.io, file: path, "cannot write the file: \(reason())")
            }
            written += count
        }
        guard fsync(descriptor) == 0 else { throw FormatError(.io, file: path, "cannot fsync the file: \(reason())") }
    }

    /// Makes a folder's entries (creations, renames, removals) durable.
    public static func syncDirectory(_ path: String) throws(FormatError) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw FormatError(.io, file: path, "cannot open the folder to fsync it: \(reason())") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw FormatError(.io, file: path, "cannot fsync the folder: \(reason())") }
    }

    /// A hidden name beside `name` that no other writer picks: the process id
    /// and a random number. Hidden, so folder scans skip it.
    public static func temporaryName(for name: String) -> String {
        ".\(name).tmp-\(getpid())-\(UInt64.random(in: 0...UInt64.max) & 0xFFFF_FFFF_FFFF)"
    }

    /// The folder and the last component of `path` ("." for a bare name).
    static func split(_ path: String) -> (folder: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let folder = String(path[..<slash])
        return (folder.isEmpty ? "/" : folder, String(path[path.index(after: slash)...]))
    }

    private static func reason() -> String { String(cString: strerror(errno)) }
}
