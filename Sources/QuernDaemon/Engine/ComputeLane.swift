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
    typealias Outcome = (index: Int, result: Result<TaskOutput, QuernError>, timings: Timings)

    let timeout: Duration
    let logger: Logger

    /// Hooks into the daemon: `deliver` takes outcomes as soon as they are
    /// known (possibly in several calls), `shouldAbandon` is polled while
    /// waiting (shutdown past its grace period), `onStuck` is called when a
    /// pipeline ignores cancellation.
    struct Hooks {
        var deliver: ([Outcome]) -> Void
        var shouldAbandon: () -> Bool = { false }
        var onStuck: () -> Void = {}
    }

    enum End {
        /// Every input of the batch was delivered.
        case completed
        /// Shutdown came first: inputs not delivered yet are handed back.
        case abandoned
    }

    func run(_ batch: [ModelWork], hooks: Hooks) -> End {
        guard let pipeline = batch.first?.pipeline else { return .completed }
        let laneStart = DispatchTime.now()
        var timings = batch.map(\.intake.timings)
        var prepared: [Prepared] = []
        var failures: [Outcome] = []
        let inputs = pipeline.prepareBatch(batch.map(\.job))
        for (index, (work, input)) in zip(batch, inputs).enumerated() {
            timings[index].queued += Double(laneStart.uptimeNanoseconds &- work.intake.readyAt) / 1e9
            timings[index].decode += input.seconds
            switch input.result {
            case let .success(input): prepared.append(Prepared(index: index, input: input, timings: timings[index]))
            case let .failure(error): failures.append((index, .failure(error), timings[index]))
            }
        }
        if !failures.isEmpty { hooks.deliver(failures) }
        if prepared.isEmpty { return .completed }
        return execute(prepared, pipeline: pipeline, hooks: hooks)
    }

    private struct Prepared {
        var index: Int
        var input: any Sendable
        var timings: Timings
    }

    private enum Attempt {
        case results([Result<TaskOutput, QuernError>], seconds: Double)
        case timedOut(BatchExecution, seconds: Double)
        case abandoned
    }

    private func execute(_ prepared: [Prepared], pipeline: AnyPipeline, hooks: Hooks) -> End {
        switch attempt(prepared.map(\.input), pipeline: pipeline, hooks: hooks) {
        case .abandoned:
            return .abandoned
        case let .results(results, seconds):
            hooks.deliver(zip(prepared, results).map { item, result in
                var itemTimings = item.timings
                itemTimings.inference = seconds
                return (item.index, result, itemTimings)
            })
            return .completed
        case let .timedOut(execution, seconds):
            if prepared.count == 1, let item = prepared.first {
                // Write the timeout result now; only then wait for the pipeline to let go.
                var itemTimings = item.timings
                itemTimings.inference = seconds
                let error = QuernError(.timeout, "the model took longer than the \(Self.describe(timeout)) limit (raise --timeout)")
                hooks.deliver([(item.index, .failure(error), itemTimings)])
                return waitForRunaway(execution, pipeline: pipeline, hooks: hooks) ? .completed : .abandoned
            }
            // One slow input must not fail its batch-mates: retry each alone.
            guard waitForRunaway(execution, pipeline: pipeline, hooks: hooks) else { return .abandoned }
            logger.notice("a batch timed out; running its inputs one by one", metadata: ["model": "\(pipeline.identity.name)", "batch": "\(prepared.count)"])
            for var item in prepared {
                item.timings.queued += seconds  // the failed batch attempt was waiting, for this input
                if execute([item], pipeline: pipeline, hooks: hooks) == .abandoned {
                    return .abandoned
                }
            }
            return .completed
        }
    }

    private func attempt(_ inputs: [any Sendable], pipeline: AnyPipeline, hooks: Hooks) -> Attempt {
        let start = DispatchTime.now()
        let execution = BatchExecution(pipeline: pipeline, batch: inputs, timeout: timeout)
        let deadline = start.uptimeNanoseconds + Self.nanoseconds(timeout)
        while true {
            if hooks.shouldAbandon() {
                execution.cancel()
                return .abandoned
            }
            let now = DispatchTime.now().uptimeNanoseconds
            if now >= deadline {
                execution.cancel()
                return .timedOut(execution, seconds: FileProcessor.seconds(since: start))
            }
            if let results = execution.wait(timeout: .nanoseconds(Int64(min(deadline - now, 50_000_000)))) {
                return .results(results, seconds: FileProcessor.seconds(since: start))
            }
        }
    }

    /// After a timeout the pipeline was cancelled; the lane stays closed until
    /// it returns, so the next job never shares the cores with a runaway. A
    /// pipeline that ignores cancellation for another full timeout is a bug
    /// the process cannot recover from: `onStuck` stops the daemon (exit 70)
    /// so the supervisor starts a fresh one. false when abandoned.
    private func waitForRunaway(_ execution: BatchExecution, pipeline: AnyPipeline, hooks: Hooks) -> Bool {
        let giveUp = DispatchTime.now().uptimeNanoseconds + Self.nanoseconds(timeout)
        var warned = false
        while !execution.waitUntilFinished(timeout: .milliseconds(100)) {
            if hooks.shouldAbandon() { return false }
            if !warned {
                warned = true
                logger.warning("a timed-out pipeline is still running; waiting for it to notice the cancellation", metadata: ["model": "\(pipeline.identity.name)"])
            }
            if DispatchTime.now().uptimeNanoseconds >= giveUp {
                logger.critical("a pipeline ignored cancellation after a timeout; stopping so a fresh process can take over", metadata: ["model": "\(pipeline.identity.name)"])
                hooks.onStuck()
                return false
            }
        }
        return true
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
