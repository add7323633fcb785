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
    private var inputs = 0
    private var models = 0
    private var closed = false
    private var reclaimer: (@Sendable (Int) -> Bool)?

    public init(capacity: Int) { self.capacity = max(0, capacity) }

    /// Bytes reserved now (models and inputs).
    public var reserved: Int {
        condition.lock()
        defer { condition.unlock() }
        return inputs + models
    }

    /// How an input that does not fit gets room from idle models: called
    /// with the bytes missing, it unloads idle models (least recently used
    /// first) and says whether it freed any (`ModelResidency`).
    public func setReclaimer(_ reclaimer: @escaping @Sendable (Int) -> Bool) {
        condition.lock()
        self.reclaimer = reclaimer
        condition.unlock()
    }

    /// Blocks until the input's `bytes` fit beside the models and the other
    /// inputs, unloading idle models to make room. An input is admitted alone
    /// when no other input is reserved and no idle model is left to unload
    /// (one input always runs, if it fits the capacity at all). false once closed.
    public func reserve(_ bytes: Int) -> Bool {
        var nothingLeftToReclaim = false
        condition.lock()
        defer { condition.unlock() }
        while true {
            if closed { return false }
            if inputs + models + bytes <= capacity || (inputs == 0 && (models == 0 || nothingLeftToReclaim)) {
                inputs += bytes
                return true
            }
            if let reclaimer, models > 0 {
                let missing = inputs + models + bytes - capacity
                condition.unlock()
                let freed = reclaimer(missing)
                condition.lock()
                if freed { continue }
            }
            nothingLeftToReclaim = true
            // A model in use becomes idle (reclaimable) without a release to
            // wake this wait, so look again a few times a second.
            _ = condition.wait(until: Date().addingTimeInterval(0.25))
        }
    }

    public func release(_ bytes: Int) {
        condition.lock()
        inputs = max(0, inputs - bytes)
        condition.broadcast()
        condition.unlock()
    }

    /// Charges a loaded model's weights without waiting (it is loaded for the
    /// job at the head of its lane: waiting for inputs queued behind that very
    /// job would never end). Inputs admitted later wait for what it takes.
    public func reserveModel(_ bytes: Int) {
        condition.lock()
        models += bytes
        condition.unlock()
    }

    public func releaseModel(_ bytes: Int) {
        condition.lock()
        models = max(0, models - bytes)
        condition.broadcast()
        condition.unlock()
    }

    /// Whether `bytes` more fit beside what is reserved now.
    public func fits(_ bytes: Int) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        return inputs + models + bytes <= capacity
    }

    /// Wakes every waiting `reserve`, which then returns false (shutdown).
    public func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}
