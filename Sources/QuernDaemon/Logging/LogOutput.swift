#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Where log lines go: stderr, or a file (`--log-file`) that SIGHUP and
/// SIGUSR1 open again by name, so logrotate can move it away. One line is
/// one `write(2)` under a lock, so lines from different threads never mix.
public final class LogOutput: Sendable {
    private struct Destination {
        var descriptor: Int32
        /// nil: stderr.
        var path: String?
        /// stderr is a stream of the systemd journal (`JOURNAL_STREAM`).
        var isJournal: Bool
    }

    private let destination: Mutex<Destination>
    private let environment: [String: String]

    /// Lines to `path`, else to stderr. `environment` holds JOURNAL_STREAM.
    public init(path: String?, environment: [String: String]) throws(LogFileError) {
        self.environment = environment
        if let path {
            destination = Mutex(Destination(descriptor: try Self.open(path), path: path, isJournal: false))
        } else {
            destination = Mutex(Destination(descriptor: STDERR_FILENO, path: nil, isJournal: Self.stderrIsJournal(environment)))
        }
    }

    /// The file in use, nil for stderr.
    public var path: String? { destination.withLock { $0.path } }

    /// Whether lines go to the journal (and so carry `<N>` priority prefixes).
    public var isJournal: Bool { destination.withLock { $0.isJournal } }

    /// Opens `path` (nil: stderr) and sends the following lines there; the
    /// file used so far is closed. On failure nothing changes.
    public func reopen(path: String?) throws(LogFileError) {
        var descriptor = STDERR_FILENO
        if let path { descriptor = try Self.open(path) }
        let isJournal = path == nil && Self.stderrIsJournal(environment)
        let previous = destination.withLock { current -> Int32 in
            let previous = current.descriptor
            current = Destination(descriptor: descriptor, path: path, isJournal: isJournal)
            return previous
        }
        if previous != STDERR_FILENO, previous != descriptor { close(previous) }
    }

    public func write(_ line: String) {
        var bytes = Array(line.utf8)
        destination.withLock { current in
            bytes.withUnsafeMutableBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let written = Glibc.write(current.descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        return  // A full disk or a closed stderr must not stop the daemon.
                    }
                    offset += written
                }
            }
        }
    }

    private static func open(_ path: String) throws(LogFileError) -> Int32 {
        let descriptor = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard descriptor >= 0 else {
            throw LogFileError(path: path, reason: strerror(errno).map { String(cString: $0) } ?? "errno \(errno)")
        }
        return descriptor
    }

    /// systemd sets JOURNAL_STREAM to "device:inode" of the stream it
    /// connected stdout and stderr to; stderr is that stream when fstat(2)
    /// says the same. (A child whose stderr was redirected inherits the
    /// variable, hence the check.)
    static func stderrIsJournal(_ environment: [String: String]) -> Bool {
        guard let value = environment["JOURNAL_STREAM"] else { return false }
        let parts = value.split(separator: ":")
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        var status = stat()
        guard fstat(STDERR_FILENO, &status) == 0 else { return false }
        return UInt64(status.st_dev) == device && UInt64(status.st_ino) == inode
    }
}

/// `--log-file` cannot be opened for appending.
public struct LogFileError: Error, Sendable, Equatable, CustomStringConvertible {
    public let path: String
    public let reason: String

    public var code: String { "log.file_unwritable" }

    public var description: String {
        "--log-file \(path): cannot open it for appending: \(reason) (check that its folder exists and the daemon's user may write there)"
    }
}
