#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Logging
import QuernPipelines
import Synchronization

/// Watches the inbox with inotify. A file is ready when it is closed after
/// writing (IN_CLOSE_WRITE) or renamed in (IN_MOVED_TO). Symlinks, FIFOs and
/// device nodes announce themselves with IN_CREATE only, so that is watched
/// too; directories made in place and hard links (IN_CREATE of a file with
/// more than one link) are tracked until they stop changing.
/// Events are hints: if the kernel queue overflows, the inbox is listed again.
/// Each task folder (`inbox/<task>/`) has a watch of its own, added when the
/// folder is seen (at start, when it is made, and at the check every second,
/// which also notices one deleted or replaced); never through a symlink.
final class InotifyWatcher: InboxWatcher {
    let modeName = "inotify"
    private let inbox: [UInt8]
    private let scanner: InboxScanner
    private let settle: Double
    private let recheckInterval: Double
    private let logger: Logger
    private let descriptor: Int32
    private let wake: WakePipe
    private let stopping = Atomic<Bool>(false)
    /// Set when the inbox itself is deleted or moved away.
    let inboxLost = Atomic<Bool>(false)
    /// The watch of the inbox itself.
    private let inboxWatch: Int32
    /// Only touched by the thread in `run`.
    private struct FolderWatch {
        var task: TaskName
        var inode: UInt64
    }
    private nonisolated(unsafe) var folderWatches: [Int32: FolderWatch] = [:]

    init(inbox: [UInt8], scanner: InboxScanner, settle: Double, recheckInterval: Double, logger: Logger) throws(SystemError) {
        self.inbox = inbox
        self.scanner = scanner
        self.settle = settle
        self.recheckInterval = recheckInterval
        self.logger = logger
        descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard descriptor >= 0 else { throw SystemError("inotify_init1", inbox) }
        let mask = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
        inboxWatch = inotify_add_watch(descriptor, Paths.c(inbox), mask)
        guard inboxWatch >= 0 else {
            let failure = SystemError("inotify_add_watch", inbox)
            close(descriptor)
            throw failure
        }
        wake = try WakePipe()
    }

    deinit { close(descriptor) }

    func stop() {
        stopping.store(true, ordering: .releasing)
        wake.wake()
    }

    func run(emit: (Candidate) -> Bool) {
        var tracker = SettleTracker(settleSeconds: settle)
        // Watches first, then the listing: a file dropped in between is seen by one or the other.
        _ = watchTaskFolders(tracker: &tracker, scanNew: false, emit: emit)
        // Files already waiting at start-up, and any that arrived before the watch.
        guard scanner.scan(readiness: .byAge(seconds: settle), tracker: &tracker, emit: emit) else { return }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var lastIntegrityCheck = DispatchTime.now().uptimeNanoseconds
        while !stopping.load(ordering: .acquiring) {
            var descriptors = [
                pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0),
                pollfd(fd: wake.readDescriptor, events: Int16(POLLIN), revents: 0),
            ]
            // Wake at least once a second to check that the inbox is still there.
            let timeout = tracker.isEmpty ? 1000 : Int32(min(1000, max(1, recheckInterval * 1000)))
            let ready = poll(&descriptors, 2, timeout)
            if stopping.load(ordering: .acquiring) { return }
            let now = DispatchTime.now().uptimeNanoseconds
            if now &- lastIntegrityCheck >= 1_000_000_000 {
                lastIntegrityCheck = now
                guard scanner.inboxIsIntact() else {
                    scanner.reportLostInbox()
                    inboxLost.store(true, ordering: .releasing)
                    return
                }
                guard watchTaskFolders(tracker: &tracker, scanNew: true, emit: emit) else { return }
            }
            if ready < 0, errno != EINTR {
                logger.error("poll failed on the inotify descriptor", metadata: ["errno": "\(errno)"])
                return
            }
            if descriptors[0].revents & Int16(POLLIN) != 0 {
                guard let rescan = drainEvents(&buffer, tracker: &tracker, emit: emit) else { return }
                if rescan {
                    logger.notice("inotify queue overflowed; listing the inbox again")
                    guard scanner.scan(readiness: .byAge(seconds: settle), tracker: &tracker, emit: emit) else { return }
                }
            }
            guard recheck(&tracker, emit: emit) else { return }
        }
    }

    /// Reads every queued event. Returns whether a full rescan is needed, or
    /// nil when the watcher must stop.
    private func drainEvents(_ buffer: inout [UInt8], tracker: inout SettleTracker, emit: (Candidate) -> Bool) -> Bool? {
        var needsRescan = false
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count <= 0 { return needsRescan }  // EAGAIN: drained
            var offset = 0
            let header = MemoryLayout<inotify_event>.size
            while offset + header <= count {
                let watch = Int32(bitPattern: UInt32(buffer[offset]) | UInt32(buffer[offset + 1]) << 8 | UInt32(buffer[offset + 2]) << 16 | UInt32(buffer[offset + 3]) << 24)
                let mask = UInt32(buffer[offset + 4]) | UInt32(buffer[offset + 5]) << 8 | UInt32(buffer[offset + 6]) << 16 | UInt32(buffer[offset + 7]) << 24
                let nameLength = Int(UInt32(buffer[offset + 12]) | UInt32(buffer[offset + 13]) << 8 | UInt32(buffer[offset + 14]) << 16 | UInt32(buffer[offset + 15]) << 24)
                let nameStart = offset + header
                let name = Array(buffer[nameStart..<min(count, nameStart + nameLength)].prefix { $0 != 0 })
                offset = nameStart + nameLength
                if mask & UInt32(IN_Q_OVERFLOW) != 0 { needsRescan = true; continue }
                let folder = folderWatches[watch]
                if watch != inboxWatch, folder == nil { continue }  // a folder watch already dropped
                if mask & UInt32(IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED) != 0 {
                    if folder != nil {
                        // A task folder went away; the check every second watches a new one.
                        if mask & UInt32(IN_IGNORED) == 0 { inotify_rm_watch(descriptor, watch) }
                        folderWatches[watch] = nil
                        continue
                    }
                    scanner.reportLostInbox()
                    inboxLost.store(true, ordering: .releasing)
                    return nil
                }
                guard !name.isEmpty, !InboxFilter.isIgnored(name) else { continue }
                let candidateName = Claim.relative(name, in: folder?.task)
                guard let status = scanner.status(ofRelative: candidateName) else { continue }
                if folder == nil, status.type == .directory, TaskFolders.task(named: name) != nil {
                    // A task folder made (or moved) into the inbox: watch it, take what it holds.
                    guard watchTaskFolders(tracker: &tracker, scanNew: true, emit: emit) else { return nil }
                    continue
                }
                let created = mask & UInt32(IN_CREATE) != 0
                if created, status.type == .regular {
                    // A hard link (`ln`, `cp -l`) arrives complete with IN_CREATE
                    // alone; a file being written gets IN_CLOSE_WRITE later.
                    if status.links > 1 { _ = tracker.observe(candidateName, status) }
                    continue
                }
                if created, status.type == .directory {
                    _ = tracker.observe(candidateName, status)
                    continue
                }
                let candidate = Candidate(name: name, folder: folder?.task, inode: status.inode, seen: DispatchTime.now().uptimeNanoseconds)
                if !emit(candidate) { return nil }
            }
        }
    }

    /// Re-examines tracked entries (young files from a scan, new directories).
    private func recheck(_ tracker: inout SettleTracker, emit: (Candidate) -> Bool) -> Bool {
        for name in tracker.names {
            guard let status = scanner.status(ofRelative: name) else {
                tracker.forget(name)
                continue
            }
            if tracker.observe(name, status) {
                if !emit(Candidate(relativePath: name, inode: status.inode, seen: DispatchTime.now().uptimeNanoseconds)) { return false }
            }
        }
        return true
    }

    /// Adds a watch for every task folder that is a real directory and has
    /// none yet (or whose folder was replaced by another directory); with
    /// `scanNew`, lists each newly watched folder for files already in it.
    /// Returns false when `emit` refused.
    private func watchTaskFolders(tracker: inout SettleTracker, scanNew: Bool, emit: (Candidate) -> Bool) -> Bool {
        let mask = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR) | UInt32(IN_DONT_FOLLOW)
        for task in FolderRoute.routedTasks {
            let path = TaskFolders.path(task, in: inbox)
            guard let status = try? FileOps.status(path), status.type == .directory else { continue }
            if folderWatches.values.contains(where: { $0.task == task && $0.inode == status.inode }) { continue }
            for (watch, folder) in folderWatches where folder.task == task {
                inotify_rm_watch(descriptor, watch)
                folderWatches[watch] = nil
            }
            let watch = inotify_add_watch(descriptor, Paths.c(path), mask)
            guard watch >= 0 else {
                logger.warning("cannot watch a task folder; its files are taken at the next listing", metadata: [
                    "folder": "\(ResultNames.display(path))", "errno": "\(errno)",
                ])
                continue
            }
            folderWatches[watch] = FolderWatch(task: task, inode: status.inode)
            if scanNew, !scanner.scanFolder(task, readiness: .byAge(seconds: settle), tracker: &tracker, emit: emit) { return false }
        }
        return true
    }
}
