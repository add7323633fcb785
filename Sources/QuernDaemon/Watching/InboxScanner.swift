#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Logging
import QuernPipelines

/// Lists the inbox and its task folders and decides, entry by entry, what is
/// ready. Used at start-up, after an inotify queue overflow, when a task
/// folder appears, and on every tick in polling mode.
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

    /// The status of an entry by its path relative to the inbox (`name` or
    /// `<task>/name`), never following a symlink.
    func status(ofRelative relativePath: [UInt8]) -> FileOps.Status? {
        (try? FileOps.status(Paths.join(inbox, relativePath))).flatMap { $0 }
    }

    /// Emits ready entries of the inbox and of every task folder; returns
    /// false when `emit` refused (shutting down).
    func scan(readiness: Readiness, tracker: inout SettleTracker, emit: (Candidate) -> Bool) -> Bool {
        var keepGoing = true
        var seen = Set<[UInt8]>()
        var folders: [TaskName] = []
        do {
            try FileOps.forEachEntry(inbox) { name in
                guard !InboxFilter.isIgnored(name) else { return true }
                guard let status = try? FileOps.status(Paths.join(inbox, name)) else { return true }
                if status.type == .directory, let task = TaskFolders.task(named: name) {
                    folders.append(task)
                    return true
                }
                keepGoing = consider(Candidate(name: name, inode: status.inode, seen: 0), status, readiness: readiness, tracker: &tracker, seen: &seen, emit: emit)
                return keepGoing
            }
        } catch {
            logger.error("cannot list the inbox", metadata: ["error": "\(error)"])
        }
        for task in folders where keepGoing {
            keepGoing = scanFolder(task, readiness: readiness, tracker: &tracker, seen: &seen, emit: emit)
        }
        if keepGoing, case .byObservation = readiness { tracker.keepOnly(seen) }
        return keepGoing
    }

    /// Emits the ready entries of one task folder (when it has just appeared).
    func scanFolder(_ task: TaskName, readiness: Readiness, tracker: inout SettleTracker, emit: (Candidate) -> Bool) -> Bool {
        var seen = Set<[UInt8]>()
        return scanFolder(task, readiness: readiness, tracker: &tracker, seen: &seen, emit: emit)
    }

    private func scanFolder(_ task: TaskName, readiness: Readiness, tracker: inout SettleTracker, seen: inout Set<[UInt8]>,
                            emit: (Candidate) -> Bool) -> Bool {
        // Opened without following a symlink: a folder swapped for a link is not listed.
        guard let folder = DirectoryHandle(TaskFolders.path(task, in: inbox)) else { return true }
        var keepGoing = true
        do {
            try folder.forEachEntry { name in
                guard !InboxFilter.isIgnored(name) else { return true }
                guard let status = try? folder.status(name) else { return true }
                keepGoing = consider(Candidate(name: name, folder: task, inode: status.inode, seen: 0), status, readiness: readiness,
                                     tracker: &tracker, seen: &seen, emit: emit)
                return keepGoing
            }
        } catch {
            logger.error("cannot list a task folder", metadata: ["folder": "\(ResultNames.display(folder.path))", "error": "\(error)"])
        }
        return keepGoing
    }

    private func consider(_ candidate: Candidate, _ status: FileOps.Status, readiness: Readiness, tracker: inout SettleTracker,
                          seen: inout Set<[UInt8]>, emit: (Candidate) -> Bool) -> Bool {
        let key = candidate.relativePath
        if case .byObservation = readiness { seen.insert(key) }
        guard isReady(key, status, readiness: readiness, tracker: &tracker) else { return true }
        var ready = candidate
        ready.seen = DispatchTime.now().uptimeNanoseconds
        return emit(ready)
    }

    private func isReady(_ key: [UInt8], _ status: FileOps.Status, readiness: Readiness, tracker: inout SettleTracker) -> Bool {
        switch status.type {
        case .regular, .directory:
            if case let .byAge(settle) = readiness, status.type == .regular {
                var now = timespec()
                clock_gettime(CLOCK_REALTIME, &now)
                let age = Double(Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec) - status.modifiedNanoseconds) / 1e9
                if age >= settle { return true }
            }
            return tracker.observe(key, status)
        default:
            // Symlinks, FIFOs, sockets and devices never "finish": take them
            // now; they get an error result and are never opened.
            return true
        }
    }
}
