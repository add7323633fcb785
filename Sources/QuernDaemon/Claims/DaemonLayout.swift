import QuernPipelines

/// Where the daemon keeps things. Defaults (see `DaemonOptions`):
/// work = `<inbox>/.quern/work`, archive = `<inbox>/.quern/archive/{done,failed}`,
/// the lock is on the inbox directory itself (see `InboxLock`). Inside the inbox because a claim and an
/// archive move are `rename(2)`s, which only work within one file system,
/// and the leading dot keeps the watcher from ever taking them as input.
public struct DaemonLayout: Sendable, Equatable {
    public var inbox: [UInt8]
    public var outbox: [UInt8]
    public var work: [UInt8]
    public var done: [UInt8]
    public var failed: [UInt8]

    public init(inbox: String, outbox: String, work: String?, done: String?, failed: String?) {
        let inboxPath = Self.trimmed(inbox)
        self.inbox = inboxPath
        self.outbox = Self.trimmed(outbox)
        let state = Paths.join(inboxPath, ".quern")
        self.work = work.map(Self.trimmed) ?? Paths.join(state, "work")
        self.done = done.map(Self.trimmed) ?? Paths.join(state, "archive/done")
        self.failed = failed.map(Self.trimmed) ?? Paths.join(state, "archive/failed")
    }

    /// Records the pid of the daemon holding the inbox lock (the lock itself
    /// is on the inbox directory, one per inbox whatever the other directories are).
    public var pidFile: [UInt8] { Paths.join(inbox, ".quern.pid") }

    /// The hidden name a result is written under before it is renamed into place.
    func temporaryResult(for claimID: String) -> [UInt8] { Paths.join(outbox, ".quern-\(claimID).tmp") }
    /// A sidecar file's temp name (`.quern-<id>.srt.tmp`): written before
    /// the result's, renamed just before it.
    func temporarySidecar(for claimID: String, format: SubtitleFormat) -> [UInt8] {
        Paths.join(outbox, ".quern-\(claimID).\(format.rawValue).tmp")
    }
    /// The sidecar temp files of a claim that exist.
    func temporarySidecars(for claimID: String) -> [(format: SubtitleFormat, path: [UInt8])] {
        SubtitleFormat.allCases.map { ($0, temporarySidecar(for: claimID, format: $0)) }.filter { FileOps.exists($0.1) }
    }

    private static func trimmed(_ path: String) -> [UInt8] {
        var bytes = Array(path.utf8)
        while bytes.count > 1, bytes.last == UInt8(ascii: "/") { bytes.removeLast() }
        return bytes
    }
}
