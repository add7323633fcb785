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
        task = Task.detached(priority: .userInitiated) {
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
