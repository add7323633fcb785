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
    /// CPUs this process may run on (sched_getaffinity), at least 1.
    public static let availableCores: Int = max(1, Int(quern_available_cpus()))

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
            BLAS.setThreads(wanted)
            ThreadPool.shared.resize(workers: wanted - 1)
        }
        return wanted
    }
}

/// Runs `body(range)` over `0..<count` split into chunks of at least `grain`
/// items, on the compute threads. Work items must be independent.
public func parallelFor(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
    if count <= 0 { return }
    let threads = ComputeThreads.count
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
        guard chunks > 1, inUse.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            for chunk in 0..<chunks { body(chunk) }
            return
        }
        // The job is published under the mutex `resize` holds while it
        // starts workers, so every worker counted here will see it.
        pthread_mutex_lock(&mutex)
        let active = targetWorkers
        guard active > 0 else {
            pthread_mutex_unlock(&mutex)
            inUse.store(false, ordering: .releasing)
            for chunk in 0..<chunks { body(chunk) }
            return
        }
        // Bodies may call BLAS; OpenBLAS must then run in the calling thread
        // instead of waking its own workers on cores this job already uses.
        BLAS.setThreads(1)
        defer { BLAS.setThreads(targetWorkers + 1) }
        job = body
        jobWorkers = active
        chunkCount = chunks
        nextChunk.store(0, ordering: .relaxed)
        busyWorkers.store(active, ordering: .relaxed)
        generation.add(1, ordering: .releasing)
        if sleepers > 0 { pthread_cond_broadcast(&wake) }
        pthread_mutex_unlock(&mutex)

        drain(body)
        // Spin briefly for the workers (jobs are often a few microseconds);
        // then sleep, so a descheduled worker on a busy machine does not cost
        // this core a whole time slice of spinning.
        let deadline = monotonicNanoseconds() + 20_000
        var spins = 0
        while busyWorkers.load(ordering: .acquiring) > 0 {
            spinPause()
            spins += 1
            if spins & 63 == 0 {
                // Yield now and then: if the scheduler put the worker on this
                // core, spinning alone would starve it.
                sched_yield()
                guard monotonicNanoseconds() > deadline else { continue }
                pthread_mutex_lock(&mutex)
                while busyWorkers.load(ordering: .acquiring) > 0 { pthread_cond_wait(&done, &mutex) }
                pthread_mutex_unlock(&mutex)
                break
            }
        }
        job = nil
        inUse.store(false, ordering: .releasing)
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
            // call that follows gets the core.
            let deadline = monotonicNanoseconds() + 30_000
            var spins = 0
            while generation.load(ordering: .acquiring) == seen {
                spinPause()
                spins += 1
                if spins & 63 == 0 {
                    sched_yield()
                    if monotonicNanoseconds() > deadline { break }
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
