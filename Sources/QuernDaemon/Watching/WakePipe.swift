#if canImport(Glibc)
import Glibc
#endif

/// A self-pipe: `poll(2)` on the read end returns as soon as another thread
/// calls `wake()`, so the watcher sleeps in the kernel yet stops at once.
final class WakePipe: @unchecked Sendable {
    // Written once in init, then only read: safe to share.
    let readDescriptor: Int32
    private let writeDescriptor: Int32

    init() throws(SystemError) {
        var descriptors: [Int32] = [-1, -1]
        guard pipe(&descriptors) == 0 else { throw SystemError("pipe", []) }
        for descriptor in descriptors {
            _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
            _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
        }
        readDescriptor = descriptors[0]
        writeDescriptor = descriptors[1]
    }

    func wake() {
        var byte: UInt8 = 1
        _ = write(writeDescriptor, &byte, 1)
    }

    deinit {
        close(readDescriptor)
        close(writeDescriptor)
    }
}
