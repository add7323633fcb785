import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One daemon per inbox: an exclusive `flock(2)` on `<inbox>/.quern.lock`,
/// held for the process's life. The kernel drops it when the process dies,
/// even by `kill -9`, so a stale lock file never blocks a restart.
final class InboxLock {
    enum Failure: Error, CustomStringConvertible {
        case heldByAnother(pid: String?, path: String)
        case system(SystemError)

        var description: String {
            switch self {
            case let .heldByAnother(pid, path):
                let owner = pid.map { "process \($0)" } ?? "another process"
                return "another quern (\(owner)) is already serving this inbox (lock file \(path)); stop it first or use another --inbox"
            case let .system(error):
                return "cannot take the inbox lock: \(error)"
            }
        }
    }

    private let descriptor: Int32

    init(path: [UInt8]) throws(Failure) {
        descriptor = open(Paths.c(path), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard descriptor >= 0 else { throw .system(SystemError("open", path)) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder = Self.readPID(descriptor)
            close(descriptor)
            throw .heldByAnother(pid: holder, path: ResultNames.display(path))
        }
        // Record who holds it, for the message the next daemon prints.
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = pid.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
    }

    deinit { close(descriptor) }

    private static func readPID(_ descriptor: Int32) -> String? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        let text = String(decoding: buffer[0..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }
}
