import Foundation
import Dispatch
import Synchronization

/// One pipeline batch running in its own task, watched from a plain thread.
///
/// A daemon lane is a thread, not an async context, so it can wait with a
/// timeout: when the deadline passes (or the job is cancelled) it writes the
/// result straight away and cancels the task, but it only starts its next
/// batch once this one has really returned — one lane never runs two
/// inferences at once. Progress and partial output reach the lane through
/// `monitor`.
public final class BatchExecution: Sendable {
    private final class Outcome: Sendable {
        let results = Mutex<[Result<TaskOutput, QuernError>]?>(nil)
    }

    private let outcome = Outcome()
    private let finished = DispatchSemaphore(value: 0)
    private let task: Task<Void, Never>

    public init(pipeline: AnyPipeline, batch: [any Sendable], timeout: Duration, monitor: JobMonitor = JobMonitor(), slots: [Int]? = nil) {
        let outcome = self.outcome
        let finished = self.finished
        let deadline = ContinuousClock.now.advanced(by: timeout)
        // On a thread of its own, not on Swift's cooperative pool: that pool
        // has one thread per core, and a pipeline computes without awaiting,
        // so with more busy lanes than cores the extra lanes' batches would
        // wait for a pool thread instead of sharing the cores.
        let executor = DedicatedThreadExecutor(name: "quern-batch")
        task = Task.detached(executorPreference: executor, priority: .userInitiated) {
            defer { executor.stop() }
            let results = await pipeline.run(batch, context: PipelineContext(deadline: deadline, monitor: monitor, slots: slots))
            outcome.results.withLock { $0 = results }
            finished.signal()
        }
    }

    /// Blocks until the batch returns or `timeout` passes; nil means it timed out.
    public func wait(timeout: Duration) -> [Result<TaskOutput, QuernError>]? {
        if finished.wait(timeout: .now() + Self.dispatchInterval(timeout)) == .timedOut { return nil }
        finished.signal()  // keep the "finished" state for later waits
        return outcome.results.withLock { $0 }
    }

    /// Asks the pipeline to stop; it notices at its next cancellation check.
    public func cancel() { task.cancel() }

    /// Blocks until the pipeline has returned, up to `timeout`; false if it is still running.
    public func waitUntilFinished(timeout: Duration) -> Bool {
        if finished.wait(timeout: .now() + Self.dispatchInterval(timeout)) == .timedOut { return false }
        finished.signal()
        return true
    }

    private static func dispatchInterval(_ duration: Duration) -> DispatchTimeInterval {
        let (seconds, attoseconds) = duration.components
        let nanoseconds = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if nanoseconds.overflow || seconds > Int64(Int.max / 1_000_000_000) { return .never }
        return .nanoseconds(Int(nanoseconds.partialValue + attoseconds / 1_000_000_000))
    }
}

/// A task executor with one thread of its own, which ends once `stop` is
/// called and the jobs already enqueued have run.
final class DedicatedThreadExecutor: TaskExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var stopped = false

    init(name: String) {
        let thread = Thread { [self] in runJobs() }
        thread.name = name
        // As much stack as a main thread: models recurse little, but parsers of user files may.
        thread.stackSize = 8 << 20
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    private func runJobs() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopped { condition.wait() }
            if jobs.isEmpty {
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
