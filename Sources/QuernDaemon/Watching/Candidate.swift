import QuernPipelines

/// A name in the inbox (or one of its task folders) that looks ready to claim.
struct Candidate: Sendable {
    var name: [UInt8]
    /// The task folder it lies in; nil for the inbox itself.
    var folder: TaskName? = nil
    /// The inode seen when it looked ready; a different file under the same
    /// name by the time it is claimed is left for its own event.
    var inode: UInt64?
    /// Monotonic nanoseconds (DispatchTime) when Quern first saw it ready.
    var seen: UInt64

    /// `name`, or `<task>/name`: unique across the inbox and its folders
    /// (no name contains a `/`), and a path relative to the inbox.
    var relativePath: [UInt8] { Claim.relative(name, in: folder) }

    init(name: [UInt8], folder: TaskName? = nil, inode: UInt64?, seen: UInt64) {
        self.name = name
        self.folder = folder
        self.inode = inode
        self.seen = seen
    }

    /// The inverse of `relativePath`.
    init(relativePath: [UInt8], inode: UInt64?, seen: UInt64) {
        if let slash = relativePath.firstIndex(of: UInt8(ascii: "/")), let task = TaskFolders.task(named: Array(relativePath[..<slash])) {
            self.init(name: Array(relativePath[(slash + 1)...]), folder: task, inode: inode, seen: seen)
        } else {
            self.init(name: relativePath, inode: inode, seen: seen)
        }
    }
}
