#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Logging

/// Lists the inbox and decides, entry by entry, what is ready. Used at
/// start-up, after an inotify queue overflow, and on every tick in polling mode.
struct InboxScanner {
    let inbox: [UInt8]
    let logger: Logger
    /// The inbox directory the daemon started on (device, inode).
    private let identity: (device: UInt64, inode: UInt64)?

    init(inbox: [UInt8], logger: Logger) {
        self.inbox = inbox
        self.logger = logger
        identity = (try? FileOps.status(inbox)).flatMap { $0 }.map { ($0.device, $0.inode) }
    }

    /// false once the inbox was deleted, moved away or replaced by another
    /// directory. inotify does not always say so (no IN_DELETE_SELF while a
    /// descriptor on the directory is open, as the inbox lock's is), and a
    /// polling watcher would otherwise list a new, empty inbox forever.
    func inboxIsIntact() -> Bool {
        guard let identity, let status = try? FileOps.status(inbox), status.type == .directory else { return false }
        return status.device == identity.device && status.inode == identity.inode
    }

    func reportLostInbox() {
        logger.critical("the inbox was deleted, moved away or replaced; stopping (restart quern to serve the new one)", metadata: ["inbox": "\(ResultNames.display(inbox))"])
    }

    enum Readiness {
        /// Trust a regular file whose mtime is older than the settle time by
        /// the local clock (inotify mode: the file system is local).
        case byAge(seconds: Double)
        /// Only trust what has been seen unchanged for the settle time (polling).
        case byObservation
    }

    /// Emits ready entries; returns false when `emit` refused (shutting down).
    func scan(readiness: Readiness, tracker: inout SettleTracker, emit: (Candidate) -> Bool) -> Bool {
        var keepGoing = true
        var seen = Set<[UInt8]>()
        do {
            try FileOps.forEachEntry(inbox) { name in
                guard !InboxFilter.isIgnored(name) else { return true }
                guard let status = try? FileOps.status(Paths.join(inbox, name)) else { return true }
                if case .byObservation = readiness { seen.insert(name) }
                if isReady(name, status, readiness: readiness, tracker: &tracker) {
                    keepGoing = emit(Candidate(name: name, inode: status.inode, seen: DispatchTime.now().uptimeNanoseconds))
                }
                return keepGoing
            }
        } catch {
            logger.error("cannot list the inbox", metadata: ["error": "\(error)"])
        }
        if keepGoing, case .byObservation = readiness { tracker.keepOnly(seen) }
        return keepGoing
    }

    private func isReady(_ name: [UInt8], _ status: FileOps.Status, readiness: Readiness, tracker: inout SettleTracker) -> Bool {
        switch status.type {
        case .regular, .directory:
            if case let .byAge(settle) = readiness, status.type == .regular {
                var now = timespec()
                clock_gettime(CLOCK_REALTIME, &now)
                let age = Double(Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec) - status.modifiedNanoseconds) / 1e9
                if age >= settle { return true }
            }
            return tracker.observe(name, status)
        default:
            // Symlinks, FIFOs, sockets and devices never "finish": take them
            // now; they get an error result and are never opened.
            return true
        }
    }
}
