#if canImport(Glibc)
import Glibc
#endif

/// Reads a small model-side file (config.json, a vocabulary, a label list)
/// whole, refusing anything that is not a regular file — a FIFO would block
/// `open` until a writer appears, forever, and a device could be endless — and
/// anything larger than `limit` bytes.
public enum RegularFile {
    public static let defaultLimit = 256 << 20

    /// nil when the file does not exist (callers decide whether that is an error).
    public static func readIfPresent(_ path: String, limit: Int = defaultLimit) throws(FormatError) -> [UInt8]? {
        var info = stat()
        if stat(path, &info) != 0 {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw FormatError(.io, file: path, String(cString: strerror(errno)))
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw FormatError(.io, file: path, "not a regular file (a FIFO, device or directory); model files must be regular files")
        }
        guard Int(info.st_size) <= limit else {
            throw FormatError(.io, file: path, "the file is \(info.st_size) bytes, more than the \(limit) this kind of file may have")
        }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { throw FormatError(.io, file: path, String(cString: strerror(errno))) }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw FormatError(.io, file: path, String(cString: strerror(errno)))
            }
            if count == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<count])
            guard bytes.count <= limit else { throw FormatError(.io, file: path, "the file grew past \(limit) bytes while it was read") }
        }
    }

    /// The file's bytes; a missing file is an error naming it.
    public static func read(_ path: String, limit: Int = defaultLimit) throws(FormatError) -> [UInt8] {
        guard let bytes = try readIfPresent(path, limit: limit) else { throw FormatError(.io, file: path, "cannot read the file: it does not exist") }
        return bytes
    }
}
