#if canImport(Glibc)
import Glibc
#endif
import CQuernBLAS
import Synchronization

/// The one thread budget shared by OpenBLAS and Quern's own kernels.
///
/// Both run the same threads count, but never at the same time: a model's
/// forward pass is a sequence of operations, each either a BLAS call (OpenBLAS
/// uses its own threads) or a Quern kernel (spread over `ThreadPool`'s
/// workers plus the calling thread). OpenBLAS's workers are told to sleep as
/// soon as a call ends (OPENBLAS_THREAD_TIMEOUT, set by the loader), and
/// Quern's workers spin only briefly, so neither steals the other's cores.
public enum ComputeThreads {
    /// CPUs this process may run on: its affinity mask (sched_getaffinity),
    /// capped by its cgroup v2 CPU quota rounded up (`CgroupCPULimit`), at least 1.
    public static let availableCores: Int = {
        let affinity = max(1, Int(quern_available_cpus()))
        return min(affinity, CgroupCPULimit.current() ?? affinity)
    }()

    /// The cgroup v2 CPU quota in whole CPUs, nil when there is none (for `quern info`).
    public static let cgroupCPULimit: Int? = CgroupCPULimit.current()

    private static let state = Mutex<Int>(0)

    /// The threads count in force (0 before `configure`; then ≥ 1).
    public static var count: Int {
        let current = state.withLock { $0 }
        return current == 0 ? configure(threads: nil) : current
    }

    /// Sets the budget for BLAS and the pool. nil means every available core.
    @discardableResult
    public static func configure(threads: Int?) -> Int {
        let wanted = max(1, threads ?? availableCores)
        state.withLock { current in
            guard current != wanted else { return }
            current = wanted
            ThreadPool.shared.resize(workers: wanted - 1)
        }
        applyBLASThreads()
        return wanted
    }

    // MARK: Sharing the budget between lanes

    /// The daemon runs one lane per model, each on its own thread; while k of
    /// them are inside a batch at once, each should get about budget/k
    /// threads instead of all of them fighting for every core. OpenBLAS's
    /// thread count is one global setting, so while more than one lane is busy
    /// it is 1 (each lane's BLAS calls run on the lane's own thread, in
    /// parallel with the other lanes'); Quern's kernels split their work over
    /// `perCallThreads`. A lone busy lane (the common case) gets everything,
    /// exactly as before lanes existed.
    private struct Sharing {
        var busyLanes = 0
        /// A `ThreadPool` job is running: its bodies may call BLAS, which must
        /// then stay on their own thread.
        var poolJobs = 0
    }

    private static let sharing = Mutex(Sharing())
    /// `busyLanes`, readable without the lock on every `parallelFor`.
    private static let busyLaneCount = Atomic<Int>(0)

    /// Busy lanes that are standing aside right now (`standAside`).
    private static let standingAsideCount = Atomic<Int>(0)

    /// Threads one call may use now: the whole budget, or its share while
    /// several lanes are computing (at least 1).
    public static var perCallThreads: Int {
        let total = count
        let lanes = busyLaneCount.load(ordering: .relaxed) - standingAsideCount.load(ordering: .relaxed)
        return lanes > 1 ? max(1, total / lanes) : total
    }

    /// For a lane deep in a long job (a long recording): while the other
    /// busy lanes already have a thread for every core, wait instead of
    /// computing, up to `maximum`, so short jobs get the cores first and the
    /// long one fills the gaps. Returns at once when the cores are not all
    /// taken. Waits in 2 ms steps; a standing-aside lane does not count in
    /// the others' share of the threads.
    @discardableResult
    public static func standAside(upTo maximum: Duration) -> Bool {
        func othersFillTheCores() -> Bool {
            busyLaneCount.load(ordering: .relaxed) - standingAsideCount.load(ordering: .relaxed) - 1 >= count
        }
        guard maximum > .zero, othersFillTheCores() else { return false }
        standingAsideCount.add(1, ordering: .relaxed)
        defer { standingAsideCount.subtract(1, ordering: .relaxed) }
        let clock = ContinuousClock()
        let end = clock.now.advanced(by: maximum)
        while clock.now < end {
            var pause = timespec(tv_sec: 0, tv_nsec: 2_000_000)
            nanosleep(&pause, nil)
            // Counted as standing aside while it sleeps: the check excludes itself.
            if busyLaneCount.load(ordering: .relaxed) - standingAsideCount.load(ordering: .relaxed) < count { break }
        }
        return true
    }

    /// Lanes inside a batch now.
    public static var busyLanes: Int { busyLaneCount.load(ordering: .relaxed) }

    /// A lane starts a batch (preparation and model). Pair with `laneFinished`.
    public static func laneStarted() {
        sharing.withLock { state in
            state.busyLanes += 1
            busyLaneCount.store(state.busyLanes, ordering: .relaxed)
            setBLASThreads(state)
        }
    }

    /// The lane's batch returned (or was abandoned).
    public static func laneFinished() {
        sharing.withLock { state in
            state.busyLanes = max(0, state.busyLanes - 1)
            busyLaneCount.store(state.busyLanes, ordering: .relaxed)
            setBLASThreads(state)
        }
    }

    static func poolJobStarted() {
        sharing.withLock { state in
            state.poolJobs += 1
            setBLASThreads(state)
        }
    }

    static func poolJobFinished() {
        sharing.withLock { state in
            state.poolJobs = max(0, state.poolJobs - 1)
            setBLASThreads(state)
        }
    }

    private static func applyBLASThreads() {
        sharing.withLock { setBLASThreads($0) }
    }

    /// Called under `sharing`'s lock, so the setting always matches the
    /// latest state (two lanes changing it at once cannot leave it stale).
    private static func setBLASThreads(_ state: Sharing) {
        let configured = Self.state.withLock { $0 }
        let budget = configured == 0 ? availableCores : configured
        BLAS.setThreads(state.poolJobs > 0 || state.busyLanes > 1 ? 1 : budget)
    }

    /// Runs `body` with the compute threads waiting for each next job by
    /// spinning for up to 2 ms instead of 30 µs, during `body` and for 2 ms
    /// after it (the next forward pass often follows at once). For a
    /// stretch of back-to-back Quern kernels with no BLAS call in between (a
    /// convolutional network's forward pass), where nothing else needs the
    /// cores: on a virtual machine a thread that goes to sleep between two
    /// jobs can lose its CPU to the host for longer than the jobs take
    /// (measured: open_nsfw at 2 threads, batch 1, went from 65 to 82 images/s).
    public static func keepingThreadsSpinning<R>(_ body: () throws -> R) rethrows -> R {
        let pool = ThreadPool.shared
        pool.spinningScopes.add(1, ordering: .relaxed)
        defer {
            pool.spinningScopes.subtract(1, ordering: .relaxed)
            pool.spinningUntil.store(monotonicNanoseconds() + ThreadPool.longSpin, ordering: .relaxed)
        }
        return try body()
    }
}

/// Runs `body(range)` over `0..<count` split into chunks of at least `grain`
/// items, on the compute threads. Work items must be independent.
public func parallelFor(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
    if count <= 0 { return }
    let threads = ComputeThreads.perCallThreads
    let grain = max(1, grain)
    if threads == 1 || count <= grain {
        body(0..<count)
        return
    }
    // A few chunks per thread balance uneven work without much contention.
    let chunks = min((count + grain - 1) / grain, threads * 4)
    let chunkSize = (count + chunks - 1) / chunks
    withoutActuallyEscaping(body) { body in
        ThreadPool.shared.run(chunks: (count + chunkSize - 1) / chunkSize) { chunk in
            let start = chunk * chunkSize
            body(start..<min(count, start + chunkSize))
        }
    }
}

/// Persistent worker threads that wait for work by spinning briefly, then
/// sleeping on a condition variable. The calling thread takes part, so
/// `workers` is the budget minus one. Calls from two threads at once, or from
/// inside a running job, run inline instead of oversubscribing.
final class ThreadPool: @unchecked Sendable {
    static let shared = ThreadPool()

    private let generation = Atomic<Int>(0)
    private let nextChunk = Atomic<Int>(0)
    private let busyWorkers = Atomic<Int>(0)
    private let inUse = Atomic<Bool>(false)
    /// Open `ComputeThreads.keepingThreadsSpinning` scopes, and when the
    /// last one to close stops keeping the threads spinning.
    let spinningScopes = Atomic<Int>(0)
    let spinningUntil = Atomic<UInt64>(0)
    static let shortSpin: UInt64 = 30_000
    static let longSpin: UInt64 = 2_000_000
    private var chunkCount = 0
    private var job: ((Int) -> Void)?
    /// Workers taking part in the current job, fixed when it is published so
    /// that a concurrent `resize` only affects later jobs.
    private var jobWorkers = 0
    private var workerCount = 0
    private var targetWorkers = 0
    private var mutex = pthread_mutex_t()
    private var wake = pthread_cond_t()
    private var done = pthread_cond_t()
    private var sleepers = 0

    private init() {
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&wake, nil)
        pthread_cond_init(&done, nil)
    }

    /// Grows the pool to `workers` threads, or lets the extra ones idle
    /// (threads are never destroyed; a smaller budget just uses fewer).
    func resize(workers: Int) {
        pthread_mutex_lock(&mutex)
        targetWorkers = workers
        while workerCount < workers {
            let index = workerCount
            workerCount += 1
            var thread = pthread_t()
            // The generation is read under the mutex that publishing a job
            // takes, so a job published after this point is never missed.
            let box = Unmanaged.passRetained(WorkerContext(pool: self, index: index, generation: generation.load(ordering: .acquiring)))
            pthread_create(&thread, nil, { raw in
                let context = Unmanaged<WorkerContext>.fromOpaque(raw!).takeRetainedValue()
                context.pool.workerLoop(index: context.index, startGeneration: context.generation)
                return nil
            }, box.toOpaque())
            pthread_detach(thread)
        }
        pthread_mutex_unlock(&mutex)
    }

    func run(chunks: Int, _ body: @escaping (Int) -> Void) {
        // While several lanes are busy each call gets its share of the workers.
        let share = ComputeThreads.perCallThreads - 1
        guard chunks > 1, share > 0, inUse.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            for chunk in 0..<chunks { body(chunk) }
            return
        }
        // Bodies may call BLAS; OpenBLAS must then run in the calling thread
        // instead of waking its own workers on cores this job already uses.
        // (Taken before the pool's mutex: `configure` holds the budget's lock
        // while it takes the pool's, so the other order could deadlock.)
        ComputeThreads.poolJobStarted()
        defer { ComputeThreads.poolJobFinished() }
        // The job is published under the mutex `resize` holds while it
        // starts workers, so every worker counted here will see it.
        pthread_mutex_lock(&mutex)
        let active = min(targetWorkers, share)
        guard active > 0 else {
            pthread_mutex_unlock(&mutex)
            inUse.store(false, ordering: .releasing)
            for chunk in 0..<chunks { body(chunk) }
            return
        }
        job = body
        jobWorkers = active
        chunkCount = chunks
        nextChunk.store(0, ordering: .relaxed)
        busyWorkers.store(active, ordering: .relaxed)
        generation.add(1, ordering: .releasing)
        if sleepers > 0 { pthread_cond_broadcast(&wake) }
        pthread_mutex_unlock(&mutex)

        drain(body)
        // Spin briefly for the workers (jobs are often a few microseconds;
        // 2 ms in a spinning scope); then sleep, so a descheduled worker on
        // a busy machine does not cost this core a whole time slice of spinning.
        let start = monotonicNanoseconds()
        var spins = 0
        while busyWorkers.load(ordering: .acquiring) > 0 {
            spinPause()
            spins += 1
            if spins & 63 == 0 {
                // Yield now and then: if the scheduler put the worker on this
                // core, spinning alone would starve it.
                sched_yield()
                if keepSpinning(since: start) { continue }
                pthread_mutex_lock(&mutex)
                while busyWorkers.load(ordering: .acquiring) > 0 { pthread_cond_wait(&done, &mutex) }
                pthread_mutex_unlock(&mutex)
                break
            }
        }
        job = nil
        inUse.store(false, ordering: .releasing)
    }

    /// Whether a thread that began waiting at `start` should still spin.
    private func keepSpinning(since start: UInt64) -> Bool {
        let now = monotonicNanoseconds()
        if now < start + Self.shortSpin { return true }
        if spinningScopes.load(ordering: .relaxed) > 0 { return now < start + Self.longSpin }
        return now < spinningUntil.load(ordering: .relaxed)
    }

    private func drain(_ body: (Int) -> Void) {
        while true {
            let chunk = nextChunk.add(1, ordering: .relaxed).oldValue
            if chunk >= chunkCount { return }
            body(chunk)
        }
    }

    private func workerLoop(index: Int, startGeneration: Int) {
        var seen = startGeneration
        while true {
            // Spin ~30 µs for the next job (token-by-token decoding issues
            // thousands of short jobs a second), then sleep so that a BLAS
            // call that follows gets the core; 2 ms in a spinning scope.
            let start = monotonicNanoseconds()
            var spins = 0
            while generation.load(ordering: .acquiring) == seen {
                spinPause()
                spins += 1
                if spins & 63 == 0 {
                    sched_yield()
                    if !keepSpinning(since: start) { break }
                }
            }
            if generation.load(ordering: .acquiring) == seen {
                pthread_mutex_lock(&mutex)
                sleepers += 1
                while generation.load(ordering: .acquiring) == seen { pthread_cond_wait(&wake, &mutex) }
                sleepers -= 1
                pthread_mutex_unlock(&mutex)
            }
            seen = generation.load(ordering: .acquiring)
            if index < jobWorkers {
                // The job's closure must be released before the caller is
                // told this worker is done: the caller's closure is only
                // borrowed for the duration of `run`.
                runCurrentJob()
                if busyWorkers.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
                    // The caller may be asleep waiting for the last worker.
                    pthread_mutex_lock(&mutex)
                    pthread_cond_signal(&done)
                    pthread_mutex_unlock(&mutex)
                }
            }
        }
    }

    @inline(never)
    private func runCurrentJob() {
        if let body = job { drain(body) }
    }

    private final class WorkerContext {
        let pool: ThreadPool
        let index: Int
        let generation: Int
        init(pool: ThreadPool, index: Int, generation: Int) {
            self.pool = pool
            self.index = index
            self.generation = generation
        }
    }
}

@inline(__always)
private func spinPause() { quern_cpu_relax() }

@inline(__always)
func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
}
