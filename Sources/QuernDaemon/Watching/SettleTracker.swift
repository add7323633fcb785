import Dispatch

/// Watches entries that may still be changing (files found by a scan,
/// directories being filled) and reports them once their size, mtime and
/// inode have stayed the same for the settle time, by Quern's own clock —
/// so it also works where the file server's clock disagrees with ours (NFS).
struct SettleTracker {
    private struct Observation {
        var inode: UInt64
        var size: Int
        var modified: Int64
        var since: UInt64
    }

    let settleNanoseconds: UInt64
    /// A burst larger than this is tracked in parts; the rest is seen by a later scan.
    let capacity: Int
    private var observations: [[UInt8]: Observation] = [:]

    init(settleSeconds: Double, capacity: Int = 4096) {
        settleNanoseconds = UInt64(max(0, settleSeconds) * 1e9)
        self.capacity = capacity
    }

    var isEmpty: Bool { observations.isEmpty }
    var names: [[UInt8]] { Array(observations.keys) }

    /// Records what `name` looks like now; true once it has looked the same for the settle time.
    mutating func observe(_ name: [UInt8], _ status: FileOps.Status, now: UInt64 = DispatchTime.now().uptimeNanoseconds) -> Bool {
        if let previous = observations[name], previous.inode == status.inode, previous.size == status.size,
           previous.modified == status.modifiedNanoseconds {
            if now >= previous.since + settleNanoseconds {
                observations[name] = nil
                return true
            }
            return false
        }
        if settleNanoseconds == 0 {
            observations[name] = nil
            return true
        }
        if observations[name] == nil, observations.count >= capacity { return false }
        observations[name] = Observation(inode: status.inode, size: status.size, modified: status.modifiedNanoseconds, since: now)
        return false
    }

    mutating func forget(_ name: [UInt8]) { observations[name] = nil }

    /// Drops entries not seen in the latest full scan (claimed or removed).
    mutating func keepOnly(_ seen: Set<[UInt8]>) {
        observations = observations.filter { seen.contains($0.key) }
    }
}
