import Foundation
import Logging
import QuernTensor

/// What happened to a model's residency (the daemon turns these into
/// `.modelLoaded`/`.modelUnloaded` events and log lines).
public enum ModelResidencyEvent: Sendable {
    case loaded(name: String, seconds: Double, weightBytes: Int)
    case unloaded(name: String, reason: String)
    case loadFailed(name: String, message: String)
}

/// One model of the registry as `quern status` and the status file show it.
public struct ResidentModel: Sendable, Equatable {
    public var name: String
    public var tasks: [TaskName]
    public var loaded: Bool
    /// How long its last load took; nil before the first.
    public var loadSeconds: Double?
    /// Its weights file's size: what it is charged against the memory budget.
    public var weightBytes: Int
}

/// Keeps the registry's models loaded while they are used and unloads them
/// when they are not: a model loads on its first job (`LazyPipeline`), and a
/// timer unloads one idle for `idleUnload` with nothing in flight. A loaded
/// model holds its weights' size of the shared `MemoryBudget`; to load one
/// that does not fit, idle models are unloaded first, least recently used.
public final class ModelResidency: @unchecked Sendable {
    /// nil: models stay loaded once loaded.
    public let idleUnload: Duration?
    private let logger: Logger
    // Everything below is guarded by `lock`; loading itself is not (see ModelSlot.loading).
    private let lock = NSLock()
    private var slots: [ModelSlot] = []
    private var budget: MemoryBudget?
    private var listener: (@Sendable (ModelResidencyEvent) -> Void)?
    private var timerStarted = false

    public init(idleUnload: Duration?, logger: Logger) {
        self.idleUnload = idleUnload.flatMap { $0 > .zero ? $0 : nil }
        self.logger = logger
    }

    func add(_ slot: ModelSlot) {
        locked { slots.append(slot) }
    }

    /// Where load and unload events go (the daemon's observers).
    public func setListener(_ listener: @escaping @Sendable (ModelResidencyEvent) -> Void) {
        locked { self.listener = listener }
    }

    /// Charges the models loaded so far to `budget` and every later load
    /// too; inputs that do not fit unload idle models.
    public func share(_ budget: MemoryBudget) {
        let bytes = locked { () -> Int in
            self.budget = budget
            return slots.filter { $0.pipeline != nil }.reduce(0) { $0 + $1.weightBytes }
        }
        budget.reserveModel(bytes)
        budget.setReclaimer { [weak self] missing in self?.unloadIdle(freeing: missing) ?? false }
    }

    /// Unloads idle models, least recently used first, until `bytes` are
    /// freed or none is idle; whether any was unloaded.
    func unloadIdle(freeing bytes: Int) -> Bool {
        var freed = 0
        while freed < bytes {
            let victim = locked { slots.filter { $0.pipeline != nil && $0.leases == 0 }.min { $0.lastUsed < $1.lastUsed } }
            guard let victim, unload(victim, reason: "memory budget (for inputs)") else { break }
            freed += victim.weightBytes
        }
        return freed > 0
    }

    /// Bytes of the weights of the models loaded now.
    public var loadedBytes: Int {
        locked { slots.filter { $0.pipeline != nil }.reduce(0) { $0 + $1.weightBytes } }
    }

    public var models: [ResidentModel] {
        locked {
            slots.map { ResidentModel(name: $0.identity.displayName, tasks: $0.tasks.sorted { $0.rawValue < $1.rawValue }, loaded: $0.pipeline != nil,
                                      loadSeconds: $0.loadSeconds, weightBytes: $0.weightBytes) }
        }
    }

    /// Loads every model now (`--preload`), or those `include` picks by
    /// identity and tasks; a model that fails keeps its error for its jobs,
    /// as a lazy load would.
    public func preloadAll(where include: (ModelIdentity, Set<TaskName>) -> Bool = { _, _ in true }) {
        for slot in locked({ slots }) where include(slot.identity, slot.tasks) {
            _ = Result { () throws(QuernError) in try acquire(slot) }
        }
    }

    /// Unloads every idle model now (tests, and the timer).
    public func unloadIdle(olderThan age: Duration) {
        let now = ContinuousClock.now
        let idle = locked { slots.filter { $0.pipeline != nil && $0.leases == 0 && now - $0.lastUsed >= age } }
        for slot in idle { _ = unload(slot, reason: "idle") }
    }

    // MARK: Leases

    /// The loaded model, loading it first if needed; the lease keeps it
    /// loaded until it is released (the prepared inputs hold it to the end
    /// of their batch).
    func acquire(_ slot: ModelSlot) throws(QuernError) -> ModelLease {
        slot.loading.lock()
        defer { slot.loading.unlock() }
        let ready: ModelLease? = try locked { () throws(QuernError) -> ModelLease? in
            if let failure = slot.failure { throw failure }
            guard let pipeline = slot.pipeline, let base = slot.base else { return nil }
            slot.leases += 1
            return ModelLease(slot: slot, residency: self, pipeline: pipeline, base: base)
        }
        if let ready { return ready }
        makeRoom(for: slot)
        let clock = ContinuousClock()
        let start = clock.now
        let loaded: any Pipeline
        do throws(QuernError) {
            loaded = try slot.loader()
        } catch {
            let failure = QuernError(.unsupported, "model \"\(slot.identity.displayName)\" cannot be loaded, so task \(slot.tasks.map { "\"\($0.rawValue)\"" }.sorted().joined(separator: " and ")) is unavailable: \(error.message)")
            locked { slot.failure = failure }
            logger.error("cannot load a model; its tasks are unavailable", metadata: ["model": "\(slot.identity.displayName)", "error": "\(error.message)"])
            emit(.loadFailed(name: slot.identity.displayName, message: error.message))
            throw failure
        }
        let seconds = Self.seconds(clock.now - start)
        let pipeline = AnyPipeline(loaded)
        let (lease, budget) = locked { () -> (ModelLease, MemoryBudget?) in
            slot.pipeline = pipeline
            slot.base = loaded
            slot.loadSeconds = seconds
            slot.leases += 1
            slot.lastUsed = .now
            return (ModelLease(slot: slot, residency: self, pipeline: pipeline, base: loaded), self.budget)
        }
        budget?.reserveModel(slot.weightBytes)
        logger.notice("model loaded", metadata: [
            "model": "\(slot.identity.displayName)", "seconds": "\(String(format: "%.3f", seconds))", "weights_mb": "\(slot.weightBytes >> 20)",
        ])
        emit(.loaded(name: slot.identity.displayName, seconds: seconds, weightBytes: slot.weightBytes))
        startTimerIfNeeded()
        return lease
    }

    func release(_ slot: ModelSlot) {
        locked {
            slot.leases -= 1
            slot.lastUsed = .now
        }
    }

    // MARK: Unloading

    /// Unloads idle models, least recently used first, until `slot`'s
    /// weights fit the budget beside what stays. A model that does not fit
    /// even then is loaded anyway (as one input is always admitted alone):
    /// inputs admitted later wait until the total is under the budget again.
    private func makeRoom(for slot: ModelSlot) {
        guard let budget = locked({ self.budget }) else { return }
        while !budget.fits(slot.weightBytes) {
            let victim = locked {
                slots.filter { $0 !== slot && $0.pipeline != nil && $0.leases == 0 }.min { $0.lastUsed < $1.lastUsed }
            }
            guard let victim else {
                logger.warning("a model is loaded beyond the memory budget: no idle model is left to unload; new inputs wait until memory frees up (raise --max-memory)", metadata: [
                    "model": "\(slot.identity.displayName)", "weights_mb": "\(slot.weightBytes >> 20)", "max_memory_mb": "\(budget.capacity >> 20)",
                ])
                return
            }
            _ = unload(victim, reason: "memory budget (to load \(slot.identity.displayName))")
        }
    }

    @discardableResult
    private func unload(_ slot: ModelSlot, reason: String) -> Bool {
        // Dropping the last references (the leases are gone) unmaps the
        // weight files and frees the repacked weights; trimming the heap
        // then hands the freed memory back to the kernel, so the resident
        // size really falls.
        let (unloaded, budget) = locked { () -> (Bool, MemoryBudget?) in
            guard slot.leases == 0, slot.pipeline != nil else { return (false, nil) }
            slot.pipeline = nil
            slot.base = nil
            return (true, self.budget)
        }
        guard unloaded else { return false }
        Heap.trim()
        budget?.releaseModel(slot.weightBytes)
        logger.notice("model unloaded", metadata: ["model": "\(slot.identity.displayName)", "reason": "\(reason)"])
        emit(.unloaded(name: slot.identity.displayName, reason: reason))
        return true
    }

    private func emit(_ event: ModelResidencyEvent) {
        locked { listener }?(event)
    }

    /// A thread that looks for idle models a few times per idle period
    /// (at most once a second), started with the first load.
    private func startTimerIfNeeded() {
        guard let idleUnload else { return }
        let start = locked { () -> Bool in
            if timerStarted { return false }
            timerStarted = true
            return true
        }
        guard start else { return }
        let interval = min(1.0, max(0.05, Self.seconds(idleUnload) / 4))
        let thread = Thread { [weak self] in
            while true {
                Thread.sleep(forTimeInterval: interval)
                // The residency lives as long as its registry: the process, in the daemon.
                guard let self else { return }
                self.unloadIdle(olderThan: idleUnload)
            }
        }
        thread.name = "quern-model-idle"
        thread.start()
    }

    private func locked<Value, Failure: Error>(_ body: () throws(Failure) -> Value) throws(Failure) -> Value {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    static func seconds(_ duration: Duration) -> Double {
        let (whole, fraction) = duration.components
        return Double(whole) + Double(fraction) / 1e18
    }
}

/// One model of the residency: what is known without loading it, and the
/// loaded pipeline while it is loaded. State is guarded by the residency's lock.
final class ModelSlot: @unchecked Sendable {
    let identity: ModelIdentity
    let tasks: Set<TaskName>
    let maxBatchSize: Int
    let weightBytes: Int
    let loader: @Sendable () throws(QuernError) -> any Pipeline
    /// Held while this model loads, so two jobs never load it twice.
    let loading = NSLock()
    var pipeline: AnyPipeline?
    var base: (any Pipeline)?
    var leases = 0
    var lastUsed = ContinuousClock.now
    var loadSeconds: Double?
    /// A failed load, kept: the files of its tasks get this error without
    /// the model being read again for each.
    var failure: QuernError?

    init(identity: ModelIdentity, tasks: Set<TaskName>, maxBatchSize: Int, weightBytes: Int,
         loader: @escaping @Sendable () throws(QuernError) -> any Pipeline) {
        self.identity = identity
        self.tasks = tasks
        self.maxBatchSize = maxBatchSize
        self.weightBytes = weightBytes
        self.loader = loader
    }
}

/// Keeps a model loaded while it lives.
final class ModelLease: @unchecked Sendable {
    let slot: ModelSlot
    let residency: ModelResidency
    let pipeline: AnyPipeline
    /// The loaded pipeline itself, for code that needs its concrete type
    /// (the feature extractors of `train`).
    let base: any Pipeline

    init(slot: ModelSlot, residency: ModelResidency, pipeline: AnyPipeline, base: any Pipeline) {
        self.slot = slot
        self.residency = residency
        self.pipeline = pipeline
        self.base = base
    }

    deinit { residency.release(slot) }
}
