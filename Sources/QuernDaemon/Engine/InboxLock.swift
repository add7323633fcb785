import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One daemon per inbox: an exclusive `flock(2)` on the inbox directory
/// itself, held for the process's life. A lock file inside the writable inbox
/// could be deleted by anyone who drops files, letting a second daemon start;
/// the directory cannot go away without the inbox going with it. The kernel
/// drops the lock when the process dies, even by `kill -9`, so nothing stale
/// ever blocks a restart.
///
/// NFS clients emulate flock with byte-range locks, which need a file open for
/// writing: there, and only there, the lock falls back to `<inbox>/.quern.pid`.
/// That file always records the holder's pid, for the message a second daemon
/// prints; deleting it loses nothing but that message.
final class InboxLock {
    enum Failure: Error, CustomStringConvertible {
        case heldByAnother(pid: String?, path: String)
        case system(SystemError)

        var description: String {
            switch self {
            case let .heldByAnother(pid, path):
                let owner = pid.map { "process \($0)" } ?? "another process"
                return "another quern (\(owner)) is already serving the inbox \(path); stop it first or use another --inbox"
            case let .system(error):
                return "cannot take the inbox lock: \(error)"
            }
        }
    }

    private let directoryDescriptor: Int32
    private let pidDescriptor: Int32

    init(inbox: [UInt8], pidFile: [UInt8]) throws(Failure) {
        directoryDescriptor = open(Paths.c(inbox), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directoryDescriptor >= 0 else { throw .system(SystemError("open", inbox)) }
        pidDescriptor = open(Paths.c(pidFile), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard pidDescriptor >= 0 else {
            let failure = SystemError("open", pidFile)
            close(directoryDescriptor)
            throw .system(failure)
        }
        var locked = flock(directoryDescriptor, LOCK_EX | LOCK_NB) == 0
        if !locked, [EBADF, ENOLCK, EOPNOTSUPP, EINVAL].contains(errno) {
            locked = flock(pidDescriptor, LOCK_EX | LOCK_NB) == 0
        }
        guard locked else {
            let busy = errno == EWOULDBLOCK
            let failure = SystemError("flock", inbox)
            let holder = Self.readPID(pidDescriptor)
            close(pidDescriptor)
            close(directoryDescriptor)
            if busy { throw .heldByAnother(pid: holder, path: ResultNames.display(inbox)) }
            throw .system(failure)
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(pidDescriptor, 0)
        _ = pid.withUnsafeBytes { pwrite(pidDescriptor, $0.baseAddress, $0.count, 0) }
    }

    deinit {
        close(pidDescriptor)
        close(directoryDescriptor)
    }

    private static func readPID(_ descriptor: Int32) -> String? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        let text = String(decoding: buffer[0..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }
}
