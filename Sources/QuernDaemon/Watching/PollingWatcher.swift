#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Lists the inbox every interval and takes entries once they have looked
/// the same (size, mtime, inode) for the settle time. For file systems
/// without inotify (NFS, SMB), or when asked with `--poll`.
final class PollingWatcher: InboxWatcher {
    let modeName = "polling"
    private let scanner: InboxScanner
    private let interval: Double
    private let settle: Double
    private let wake: WakePipe
    private let stopping = Atomic<Bool>(false)

    init(scanner: InboxScanner, interval: Double, settle: Double) throws(SystemError) {
        self.scanner = scanner
        self.interval = interval
        self.settle = settle
        wake = try WakePipe()
    }

    func run(emit: (Candidate) -> Bool) {
        var tracker = SettleTracker(settleSeconds: settle)
        while !stopping.load(ordering: .acquiring) {
            guard scanner.inboxIsIntact() else {
                scanner.reportLostInbox()
                return
            }
            guard scanner.scan(readiness: .byObservation, tracker: &tracker, emit: emit) else { return }
            var descriptor = pollfd(fd: wake.readDescriptor, events: Int16(POLLIN), revents: 0)
            _ = poll(&descriptor, 1, Int32(max(1, interval * 1000)))
        }
    }

    func stop() {
        stopping.store(true, ordering: .releasing)
        wake.wake()
    }
}
