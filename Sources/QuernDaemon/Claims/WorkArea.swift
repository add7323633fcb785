import Logging

/// Claims inputs by moving them out of the inbox into their own directory
/// in the work area, with one atomic `rename(2)`.
final class WorkArea: Sendable {
    let layout: DaemonLayout
    private let ids = ClaimIDGenerator()

    init(layout: DaemonLayout) { self.layout = layout }

    /// Takes `name` from the inbox. nil when it is gone or was replaced by
    /// another file since it was seen (`expectedInode`): that file has an
    /// event of its own and will be seen again.
    func claim(name: [UInt8], expectedInode: UInt64?) throws(SystemError) -> Claim? {
        let source = Paths.join(layout.inbox, name)
        var id = ids.next()
        // An id can only collide with a leftover of an earlier run whose clock
        // read the same nanosecond; take the next one.
        while try !FileOps.makeDirectory(Paths.join(layout.work, id)) { id = ids.next() }
        let claim = Claim(id: id, name: name, directory: Paths.join(layout.work, id))
        do {
            if let expectedInode {
                guard let status = try FileOps.status(source), status.inode == expectedInode else {
                    try FileOps.removeDirectory(claim.directory)
                    return nil
                }
            }
            guard try FileOps.rename(source, claim.inputPath) else {
                try FileOps.removeDirectory(claim.directory)
                return nil
            }
        } catch {
            try? FileOps.removeDirectory(claim.directory)
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
}
