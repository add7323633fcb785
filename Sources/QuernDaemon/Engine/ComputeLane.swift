import Dispatch
import Logging
import QuernPipelines

/// One input waiting for, or going through, a model.
struct ModelWork: Sendable {
    var intake: IntakeResult
    var job: Job
    var pipeline: AnyPipeline
}

/// Runs batches one at a time — the tensor core already spreads one
/// inference over every core, so two at once would only fight for them.
struct ComputeLane: Sendable {
    let timeout: Duration
    let logger: Logger

    enum BatchEnd {
        /// One outcome per input, with decode and inference time added.
        case finished([(Result<TaskOutput, QuernError>, Timings)])
        /// Shutdown came first and the grace period ran out: hand the inputs back.
        case abandoned
    }

    /// `shouldAbandon` is polled while waiting; returning true cancels the batch.
    /// `onTimeout` receives the timed-out results at once, before the lane waits
    /// for the pipeline to actually return.
    func run(
        _ batch: [ModelWork], shouldAbandon: () -> Bool, onTimeout: ([(Result<TaskOutput, QuernError>, Timings)]) -> Void,
        onStuck: () -> Void
    ) -> BatchEnd {
        guard let pipeline = batch.first?.pipeline else { return .finished([]) }
        var timings = batch.map(\.intake.timings)
        let laneStart = DispatchTime.now()
        for index in timings.indices {
            timings[index].queued += Double(laneStart.uptimeNanoseconds &- batch[index].intake.readyAt) / 1e9
        }
        var prepared: [(index: Int, input: any Sendable)] = []
        var outcomes = [Result<TaskOutput, QuernError>?](repeating: nil, count: batch.count)
        for (index, work) in batch.enumerated() {
            let started = DispatchTime.now()
            do throws(QuernError) {
                prepared.append((index, try pipeline.prepare(work.job)))
            } catch {
                outcomes[index] = .failure(error)
            }
            timings[index].decode += FileProcessor.seconds(since: started)
        }
        if !prepared.isEmpty {
            let inferenceStart = DispatchTime.now()
            let execution = BatchExecution(pipeline: pipeline, batch: prepared.map(\.input), timeout: timeout)
            let deadline = inferenceStart.uptimeNanoseconds + Self.nanoseconds(timeout)
            var results: [Result<TaskOutput, QuernError>]?
            while results == nil {
                if shouldAbandon() {
                    execution.cancel()
                    return .abandoned
                }
                let now = DispatchTime.now().uptimeNanoseconds
                if now >= deadline { break }
                results = execution.wait(timeout: .nanoseconds(Int64(min(deadline - now, 50_000_000))))
            }
            let inference = FileProcessor.seconds(since: inferenceStart)
            for (position, item) in prepared.enumerated() {
                timings[item.index].inference = inference
                outcomes[item.index] = results?[position] ?? .failure(QuernError(.timeout, "the model took longer than the \(Self.describe(timeout)) limit (raise --timeout)"))
            }
            if results == nil {
                execution.cancel()
                onTimeout(zip(outcomes, timings).map { ($0 ?? .failure(QuernError(.internalError, "no outcome")), $1) })
                waitForRunaway(execution, pipeline: pipeline, shouldAbandon: shouldAbandon, onStuck: onStuck)
                return .finished([])
            }
        }
        return .finished(zip(outcomes, timings).map { ($0 ?? .failure(QuernError(.internalError, "no outcome")), $1) })
    }

    /// After a timeout the pipeline was cancelled; the lane stays closed until
    /// it returns, so the next job never shares the cores with a runaway. A
    /// pipeline that ignores cancellation for another full timeout is a bug
    /// the process cannot recover from: `onStuck` stops the daemon (exit 70)
    /// so the supervisor starts a fresh one.
    private func waitForRunaway(_ execution: BatchExecution, pipeline: AnyPipeline, shouldAbandon: () -> Bool, onStuck: () -> Void) {
        let giveUp = DispatchTime.now().uptimeNanoseconds + Self.nanoseconds(timeout)
        var warned = false
        while !execution.waitUntilFinished(timeout: .milliseconds(100)) {
            if shouldAbandon() { return }
            if !warned {
                warned = true
                logger.warning("a timed-out pipeline is still running; waiting for it to notice the cancellation", metadata: ["model": "\(pipeline.identity.name)"])
            }
            if DispatchTime.now().uptimeNanoseconds >= giveUp {
                logger.critical("a pipeline ignored cancellation after a timeout; stopping so a fresh process can take over", metadata: ["model": "\(pipeline.identity.name)"])
                onStuck()
                return
            }
        }
    }

    static func nanoseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        return UInt64(max(0, seconds)) &* 1_000_000_000 &+ UInt64(max(0, attoseconds / 1_000_000_000))
    }

    static func describe(_ duration: Duration) -> String {
        let seconds = Double(nanoseconds(duration)) / 1e9
        return seconds == seconds.rounded() ? "\(Int(seconds)) s" : "\(seconds) s"
    }
}
