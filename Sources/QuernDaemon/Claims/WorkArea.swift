import Logging
import QuernPipelines

/// Claims inputs by moving them out of the inbox into their own directory
/// in the work area, with one atomic `rename(2)`.
final class WorkArea: Sendable {
    let layout: DaemonLayout
    private let ids = ClaimIDGenerator()

    init(layout: DaemonLayout) { self.layout = layout }

    /// Takes `name` from the inbox (or from its task folder `folder`). nil when
    /// it is gone or was replaced by another file since it was seen
    /// (`expectedInode`): that file has an event of its own and will be seen
    /// again — and when the folder is not a real directory any more (a task
    /// folder swapped for a symlink is never followed).
    func claim(name: [UInt8], folder: TaskName? = nil, expectedInode: UInt64?) throws(SystemError) -> Claim? {
        var source: DirectoryHandle?
        if let folder {
            guard let handle = DirectoryHandle(TaskFolders.path(folder, in: layout.inbox)) else { return nil }
            source = handle
        }
        var id = ids.next()
        // An id can only collide with a leftover of an earlier run whose clock
        // read the same nanosecond; take the next one.
        while try !FileOps.makeDirectory(Paths.join(layout.work, id)) { id = ids.next() }
        let claim = Claim(id: id, name: name, directory: Paths.join(layout.work, id), folder: folder)
        func abandon() throws(SystemError) {
            if let folder { try FileOps.removeFile(claim.marker(Claim.folderMarker(folder))) }
            try FileOps.removeDirectory(claim.directory)
        }
        do {
            // The folder marker goes in first, so whenever the input is in the
            // claim, recovery knows which folder it came from.
            if let folder { try FileOps.touch(claim.marker(Claim.folderMarker(folder))) }
            if let expectedInode {
                let status: FileOps.Status?
                if let source { status = try source.status(name) } else { status = try FileOps.status(Paths.join(layout.inbox, name)) }
                guard let status, status.inode == expectedInode else {
                    try abandon()
                    return nil
                }
            }
            let moved: Bool
            if let source { moved = try source.rename(name, to: claim.inputPath) } else { moved = try FileOps.rename(Paths.join(layout.inbox, name), claim.inputPath) }
            guard moved else {
                try abandon()
                return nil
            }
        } catch {
            try? abandon()
            throw error
        }
        return claim
    }

    /// Records that `claim` is being worked on (inspected, decoded or inside a
    /// model), so that a crash now is charged to it and to nothing else.
    /// Not synced: the entry only has to survive the process, not the machine
    /// (a power cut is no input's fault, and missing it merely skips a charge).
    func markRunning(_ claim: Claim) {
        try? FileOps.touch(claim.marker(Claim.runningMarker))
    }

    /// The stage let go of `claim` (it waits in a queue, or its outcome is known).
    func clearRunning(_ claim: Claim) {
        try? FileOps.removeFile(claim.marker(Claim.runningMarker))
    }

    /// Marks claims a graceful shutdown did not finish, so recovery does not
    /// count them as crashes.
    func handBack(_ claim: Claim) {
        try? FileOps.touch(claim.marker(Claim.handedBackMarker))
    }

    /// The job was cancelled: `quern cancel` left a `.cancel` marker in its
    /// claim, or its input was deleted from the work area. Two `lstat`s.
    func isCancelled(_ claim: Claim) -> Bool {
        FileOps.exists(claim.marker(Claim.cancelMarker)) || !FileOps.exists(claim.inputPath)
    }
}

/// `quern cancel`: marks claims in a work area so the daemon serving it stops
/// them — no socket, only a file the lane looks for while it polls.
public enum CancelRequest {
    public struct Marked: Sendable, Equatable {
        public var claimID: String
        public var name: String
    }

    public enum Failure: Error, CustomStringConvertible {
        case unreadableWorkArea(String)
        case cannotMark(String)

        public var description: String {
            switch self {
            case let .unreadableWorkArea(message), let .cannotMark(message): return message
            }
        }
    }

    /// Marks every claim whose input is named `name`, or whose claim id is
    /// `name`, with `.cancel`. Returns what was marked (empty: nothing matched).
    public static func mark(name: String, work: String) throws(Failure) -> [Marked] {
        let workPath = Array(work.utf8)
        var claims: [[UInt8]] = []
        do {
            try FileOps.forEachEntry(workPath) { entry in
                if entry.first != UInt8(ascii: ".") { claims.append(entry) }
                return true
            }
        } catch {
            throw .unreadableWorkArea("cannot read the work area \(work): \(error) (is it the right --work or --inbox?)")
        }
        var marked: [Marked] = []
        let wanted = Array(name.utf8)
        for id in claims.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            let directory = Paths.join(workPath, id)
            var inputs: [[UInt8]] = []
            try? FileOps.forEachEntry(directory) { entry in
                if entry.first != UInt8(ascii: ".") { inputs.append(entry) }
                return true
            }
            guard id == wanted || inputs.contains(wanted) else { continue }
            do {
                try FileOps.touch(Paths.join(directory, Claim.cancelMarker))
            } catch {
                throw .cannotMark("cannot mark claim \(String(decoding: id, as: UTF8.self)) as cancelled: \(error)")
            }
            marked.append(Marked(claimID: String(decoding: id, as: UTF8.self), name: ResultNames.display(inputs.first ?? wanted)))
        }
        return marked
    }
}
