/// A name in the inbox that looks ready to claim.
struct Candidate: Sendable {
    var name: [UInt8]
    /// The inode seen when it looked ready; a different file under the same
    /// name by the time it is claimed is left for its own event.
    var inode: UInt64?
    /// Monotonic nanoseconds (DispatchTime) when Quern first saw it ready.
    var seen: UInt64
}
