import Dispatch
import Logging
import QuernPipelines

/// One input waiting for, or going through, a model.
struct ModelWork: Sendable {
    var intake: IntakeResult
    var job: Job
    var pipeline: AnyPipeline
}

/// Runs one model's batches one at a time, on that model's lane thread
/// (each lane is one of these; the tensor core shares the cores between the
/// lanes that are busy at once, `ComputeThreads.laneStarted`).
struct ComputeLane: Sendable {
    /// The result of input `index` of the batch; `partial` is what the
    /// pipeline had produced when a timeout or a cancellation stopped it.
    struct Outcome {
        var index: Int
        var result: Result<TaskOutput, QuernError>
        var timings: Timings
        var partial: TaskOutput? = nil

        init(_ index: Int, _ result: Result<TaskOutput, QuernError>, _ timings: Timings, partial: TaskOutput? = nil) {
            self.index = index
            self.result = result
            self.timings = timings
            self.partial = partial
        }
    }

    let timeout: Duration
    let logger: Logger

    /// Hooks into the daemon: `deliver` takes outcomes as soon as they are
    /// known (possibly in several calls), `shouldAbandon` is polled while
    /// waiting (shutdown past its grace period), `onStuck` is called when a
    /// pipeline ignores cancellation. `isCancelled(index)` says whether
    /// input `index` of the batch was cancelled (`quern cancel`, its input
    /// deleted) and `poll` runs about every 50 ms while the lane waits
    /// (progress lines); both are asked from the lane's thread.
    struct Hooks {
        var deliver: ([Outcome]) -> Void
        var shouldAbandon: () -> Bool = { false }
        var onStuck: () -> Void = {}
        var isCancelled: (Int) -> Bool = { _ in false }
        var poll: () -> Void = {}
    }

    static let cancelledError = QuernError(.cancelled, "the job was cancelled (quern cancel, or its input was deleted from the work area)")

    enum End {
        /// Every input of the batch was delivered.
        case completed
        /// Shutdown came first: inputs not delivered yet are handed back.
        case abandoned
    }

    func run(_ batch: [ModelWork], monitor: JobMonitor = JobMonitor(), hooks: Hooks) -> End {
        guard let pipeline = batch.first?.pipeline else { return .completed }
        let laneStart = DispatchTime.now()
        var timings = batch.map(\.intake.timings)
        var prepared: [Prepared] = []
        var failures: [Outcome] = []
        for (index, work) in batch.enumerated() {
            timings[index].queued += Double(laneStart.uptimeNanoseconds &- work.intake.readyAt) / 1e9
        }
        let preparationTimeout = QuernError(.timeout, "preparing the input (decoding, tokenizing) took longer than the \(Self.describe(timeout)) limit (raise --timeout)")
        var inputs: [(result: Result<any Sendable, QuernError>, seconds: Double)]
        switch prepare(batch, pipeline: pipeline, hooks: hooks) {
        case let .prepared(values):
            inputs = values
        case .abandoned:
            return .abandoned
        case let .cancelled(seconds, call):
            timings[0].decode += seconds
            hooks.deliver([Outcome(0, .failure(Self.cancelledError), timings[0])])
            return waitForRunaway(pipeline: pipeline, hooks: hooks) { call.wait(nanoseconds: $0) != nil } ? .completed : .abandoned
        case let .timedOut(seconds, call) where batch.count == 1:
            // Alone: its result is written at the deadline; the lane then
            // waits for the preparation to return before the next batch.
            timings[0].decode += seconds
            hooks.deliver([Outcome(0, .failure(preparationTimeout), timings[0])])
            return waitForRunaway(pipeline: pipeline, hooks: hooks) { call.wait(nanoseconds: $0) != nil } ? .completed : .abandoned
        case let .timedOut(_, call):
            // Which input of the batch is slow is only known once the
            // preparation returns: those over the limit get `timeout`, their
            // batch-mates go on to the model.
            guard waitForRunaway(pipeline: pipeline, hooks: hooks, finishedWithin: { call.wait(nanoseconds: $0) != nil }),
                  let values = call.wait(nanoseconds: 0)
            else { return .abandoned }
            inputs = values.map { input in
                input.seconds > Double(Self.nanoseconds(timeout)) / 1e9 ? (.failure(preparationTimeout), input.seconds) : input
            }
        }
        for (index, input) in inputs.enumerated() {
            timings[index].decode += input.seconds
            switch input.result {
            case .success where hooks.isCancelled(index):
                // Cancelled while it was being prepared: the model never sees it.
                failures.append(Outcome(index, .failure(Self.cancelledError), timings[index]))
            case let .success(input): prepared.append(Prepared(index: index, input: input, timings: timings[index]))
            case let .failure(error): failures.append(Outcome(index, .failure(error), timings[index]))
            }
        }
        if !failures.isEmpty { hooks.deliver(failures) }
        if prepared.isEmpty { return .completed }
        return execute(prepared, pipeline: pipeline, monitor: monitor, hooks: hooks)
    }

    private enum Preparation {
        case prepared([(result: Result<any Sendable, QuernError>, seconds: Double)])
        case timedOut(seconds: Double, BackgroundCall<[(result: Result<any Sendable, QuernError>, seconds: Double)]>)
        /// A lone input was cancelled while it was being prepared.
        case cancelled(seconds: Double, BackgroundCall<[(result: Result<any Sendable, QuernError>, seconds: Double)]>)
        case abandoned
    }

    /// Preparation (decoding, resampling, tokenizing) runs under the same
    /// time limit as the model: a hostile input whose preparation runs away
    /// gets its `timeout` result at the deadline instead of silently holding
    /// up every file behind it.
    private func prepare(_ batch: [ModelWork], pipeline: AnyPipeline, hooks: Hooks) -> Preparation {
        let start = DispatchTime.now()
        let jobs = batch.map(\.job)
        let call = BackgroundCall(name: "quern-prepare") { pipeline.prepareBatch(jobs) }
        let deadline = start.uptimeNanoseconds + Self.nanoseconds(timeout)
        while true {
            if hooks.shouldAbandon() { return .abandoned }
            hooks.poll()
            if batch.count == 1, hooks.isCancelled(0) { return .cancelled(seconds: FileProcessor.seconds(since: start), call) }
            let now = DispatchTime.now().uptimeNanoseconds
            if now >= deadline { return .timedOut(seconds: FileProcessor.seconds(since: start), call) }
            if let inputs = call.wait(nanoseconds: min(deadline - now, 50_000_000)) { return .prepared(inputs) }
        }
    }

    private struct Prepared {
        var index: Int
        var input: any Sendable
        var timings: Timings
    }

    private enum Attempt {
        case results([Result<TaskOutput, QuernError>], seconds: Double)
        case timedOut(BatchExecution, seconds: Double)
        /// Inputs of the attempt (positions in it) were cancelled; the
        /// execution was asked to stop.
        case cancelled(BatchExecution, positions: Set<Int>, seconds: Double)
        case abandoned
    }

    private func execute(_ prepared: [Prepared], pipeline: AnyPipeline, monitor: JobMonitor, hooks: Hooks) -> End {
        switch attempt(prepared, pipeline: pipeline, monitor: monitor, hooks: hooks) {
        case .abandoned:
            return .abandoned
        case let .results(results, seconds):
            hooks.deliver(zip(prepared, results).map { item, result in
                var itemTimings = item.timings
                itemTimings.inference = seconds
                return Outcome(item.index, result, itemTimings)
            })
            return .completed
        case let .cancelled(execution, positions, seconds):
            // The cancelled inputs' results go out now, with what they had
            // produced; their batch-mates run again once the pipeline let go.
            hooks.deliver(prepared.enumerated().filter { positions.contains($0.offset) }.map { _, item in
                var itemTimings = item.timings
                itemTimings.inference = seconds
                return Outcome(item.index, .failure(Self.cancelledError), itemTimings, partial: monitor.partial(item.index))
            })
            guard waitForRunaway(execution, pipeline: pipeline, hooks: hooks) else { return .abandoned }
            for (position, var item) in prepared.enumerated() where !positions.contains(position) {
                item.timings.queued += seconds
                if execute([item], pipeline: pipeline, monitor: monitor, hooks: hooks) == .abandoned { return .abandoned }
            }
            return .completed
        case let .timedOut(execution, seconds):
            if prepared.count == 1, let item = prepared.first {
                // Write the timeout result now; only then wait for the pipeline to let go.
                var itemTimings = item.timings
                itemTimings.inference = seconds
                let error = QuernError(.timeout, "the model took longer than the \(Self.describe(timeout)) limit (raise --timeout)")
                hooks.deliver([Outcome(item.index, .failure(error), itemTimings, partial: monitor.partial(item.index))])
                return waitForRunaway(execution, pipeline: pipeline, hooks: hooks) ? .completed : .abandoned
            }
            // One slow input must not fail its batch-mates: retry each alone.
            guard waitForRunaway(execution, pipeline: pipeline, hooks: hooks) else { return .abandoned }
            logger.notice("a batch timed out; running its inputs one by one", metadata: ["model": "\(pipeline.identity.name)", "batch": "\(prepared.count)"])
            for var item in prepared {
                item.timings.queued += seconds  // the failed batch attempt was waiting, for this input
                if execute([item], pipeline: pipeline, monitor: monitor, hooks: hooks) == .abandoned {
                    return .abandoned
                }
            }
            return .completed
        }
    }

    private func attempt(_ prepared: [Prepared], pipeline: AnyPipeline, monitor: JobMonitor, hooks: Hooks) -> Attempt {
        let start = DispatchTime.now()
        let execution = BatchExecution(pipeline: pipeline, batch: prepared.map(\.input), timeout: timeout, monitor: monitor, slots: prepared.map(\.index))
        let deadline = start.uptimeNanoseconds + Self.nanoseconds(timeout)
        while true {
            if hooks.shouldAbandon() {
                execution.cancel()
                return .abandoned
            }
            hooks.poll()
            let cancelled = Set(prepared.indices.filter { hooks.isCancelled(prepared[$0].index) })
            if !cancelled.isEmpty {
                execution.cancel()
                return .cancelled(execution, positions: cancelled, seconds: FileProcessor.seconds(since: start))
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
        waitForRunaway(pipeline: pipeline, hooks: hooks) { execution.waitUntilFinished(timeout: .nanoseconds(Int64($0))) }
    }

    /// `finishedWithin(ns)` waits up to `ns` nanoseconds for the runaway work
    /// and says whether it has returned.
    private func waitForRunaway(pipeline: AnyPipeline, hooks: Hooks, finishedWithin: (UInt64) -> Bool) -> Bool {
        let giveUp = DispatchTime.now().uptimeNanoseconds + Self.nanoseconds(timeout)
        var warned = false
        while !finishedWithin(100_000_000) {
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
