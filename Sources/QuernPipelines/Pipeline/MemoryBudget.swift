import Foundation

/// The one byte budget (`--max-memory`) that loaded models and work in
/// flight share.
///
/// Intake reserves a file's estimated peak (`MemoryEstimate`) before reading
/// it and the reservation is released when its result is known, so the claims
/// waiting their turn stay files on disk and the daemon's peak memory does not
/// grow with the queue. A model reserves its weights' size while it is loaded
/// (`ModelResidency`), so inputs admitted beside it get what it leaves.
public final class MemoryBudget: @unchecked Sendable {
    public let capacity: Int
    // Guarded by `condition`.
    private let condition = NSCondition()
    private var used = 0
    private var closed = false

    public init(capacity: Int) { self.capacity = max(0, capacity) }

    /// Bytes reserved now (models and inputs).
    public var reserved: Int {
        condition.lock()
        defer { condition.unlock() }
        return used
    }

    /// Blocks until `bytes` fit (or nothing else is reserved: one input is
    /// always admitted alone, if it fits the capacity at all). false once closed.
    public func reserve(_ bytes: Int) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while !closed, used > 0, used + bytes > capacity { condition.wait() }
        if closed { return false }
        used += bytes
        return true
    }

    /// Reserves without waiting (a model being loaded for the job at the
    /// head of its lane: waiting for inputs queued behind that very job to
    /// finish would never end). What it takes makes later `reserve` calls wait.
    public func reserveNow(_ bytes: Int) {
        condition.lock()
        used += bytes
        condition.unlock()
    }

    /// Whether `bytes` more fit beside what is reserved now.
    public func fits(_ bytes: Int) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        return used + bytes <= capacity
    }

    public func release(_ bytes: Int) {
        condition.lock()
        used = max(0, used - bytes)
        condition.broadcast()
        condition.unlock()
    }

    /// Wakes every waiting `reserve`, which then returns false (shutdown).
    public func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}
