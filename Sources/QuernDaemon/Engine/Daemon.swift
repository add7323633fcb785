import Dispatch
import Foundation
import Logging
import QuernJSON
import QuernPipelines
import QuernQueue
import QuernTensor
import Synchronization

/// `quern serve`: watches the inbox and turns every file into exactly one
/// result. The stages are threads joined by bounded queues:
///
///     watcher → [candidates] → intake ×2 → [one queue per model] → one lane per model → [results] → writers ×3
///
/// intake claims, reads, hashes and inspects, and routes each job to its
/// model's lane; each lane runs one batch at a time on its own thread (the
/// lanes busy at once share the compute threads); writers make results
/// durable and archive inputs. A file that needs no model (bad input,
/// unsupported task) goes from intake straight to a writer.
public final class Daemon: Sendable {
    public enum StartFailure: Error, CustomStringConvertible {
        case anotherDaemon(String)
        case setup(String)

        public var description: String {
            switch self {
            case let .anotherDaemon(message), let .setup(message): return message
            }
        }

        /// EX_TEMPFAIL for "already running" (systemd is told not to restart on it), 1 otherwise.
        public var exitCode: Int32 {
            if case .anotherDaemon = self { return 75 }
            return 1
        }
    }

    private enum IntakeItem: Sendable {
        case candidate(Candidate)
        case recovered(RecoveredClaim, seen: UInt64)
        /// A job leased from the shared queue (`--queue`).
        case leased(LeasedJob, seen: UInt64)
    }

    private struct Finished: Sendable {
        var origin: JobOrigin
        var document: ResultDocument
        /// The lane that ran it, or "intake".
        var lane: String = "intake"
    }

    /// A job running this long gets progress lines, every `progressEvery` seconds.
    static let progressAfter = 3.0
    static let progressEvery = 5.0

    let configuration: DaemonConfiguration
    private let processor: FileProcessor
    private let logger: Logger
    private let workArea: WorkArea
    private let publisher: ResultPublisher
    private let retention: RetentionSweeper
    private let intakeQueue: BoundedQueue<IntakeItem>
    /// One per pipeline lane (model), by lane name; fixed at start.
    private let lanes: [String: Lane]
    private let resultQueue: BoundedQueue<Finished>
    private let inFlight = Mutex<[String: Claim]>([:])
    /// Admission against --max-memory; set up in `run`, once the models are resident.
    private let memory = Mutex<MemoryBudget?>(nil)
    /// Bytes reserved per claim id, released when the claim's outcome is known.
    private let reservations = Mutex<[String: Int]>([:])
    /// The shared queue (`--queue`): inbox files are fed to it and jobs
    /// taken from it; nil in the default, inbox-only mode.
    let link: QueueLink?
    /// Gives freed activations back to the kernel once every lane is idle.
    private let heapTrim = IdleHeapTrim()
    private let stopRequest = DispatchSemaphore(value: 0)
    private let stopState = Mutex<(requested: Bool, exitCode: Int32, abandonAfter: UInt64?)>((false, 0, nil))
    /// Status file, metrics, systemd: told what happens (`DaemonEvent`).
    private let observer: any DaemonObserver
    private let startedAt = Date().timeIntervalSince1970
    private let counts = Mutex<(ready: Bool, done: Int, failed: Int)>((false, 0, 0))
    /// What SIGHUP may change while running (`apply(reloaded:)`, Daemon+Reload.swift).
    let reloadable: Mutex<ReloadableSettings>

    public init(configuration: DaemonConfiguration, processor: FileProcessor, logger: Logger, observer: any DaemonObserver = DaemonObservers()) {
        self.configuration = configuration
        self.processor = processor
        self.logger = logger
        self.observer = observer
        reloadable = Mutex(ReloadableSettings(configuration))
        workArea = WorkArea(layout: configuration.layout)
        publisher = ResultPublisher(layout: configuration.layout)
        retention = RetentionSweeper(layout: configuration.layout, policy: configuration.retention, logger: logger)
        intakeQueue = BoundedQueue(capacity: configuration.queueCapacity)
        var lanes: [String: Lane] = [:]
        for task in processor.registry.servedTasks {
            guard let pipeline = processor.registry.pipeline(for: task), lanes[pipeline.lane] == nil else { continue }
            lanes[pipeline.lane] = Lane(name: pipeline.lane, capacity: configuration.queueCapacity)
        }
        self.lanes = lanes
        resultQueue = BoundedQueue(capacity: configuration.queueCapacity)
        link = configuration.queue.map {
            QueueLink(settings: $0, servedTasks: processor.registry.servedTasks, logger: logger, observer: observer)
        }
        processor.registry.residency?.setListener { event in
            switch event {
            case let .loaded(name, seconds, weightBytes):
                observer.observe(.modelLoaded(ModelLoadReport(name: name, seconds: seconds, weightBytes: weightBytes)))
            case let .unloaded(name, _):
                observer.observe(.modelUnloaded(name: name))
            case .loadFailed:
                break
            }
        }
    }

    /// Asks the daemon to stop taking files and shut down (any thread, signal handlers too).
    public func requestStop(exitCode: Int32 = 0, reason: String) {
        let first = stopState.withLock { state -> Bool in
            if state.requested { return false }
            state.requested = true
            state.exitCode = exitCode
            state.abandonAfter = DispatchTime.now().uptimeNanoseconds + ComputeLane.nanoseconds(shutdownGrace)
            return true
        }
        if first {
            logger.notice("stopping", metadata: ["reason": "\(reason)"])
            observer.observe(.stopping(reason: reason))
            stopRequest.signal()
        }
    }

    private var isStopping: Bool { stopState.withLock { $0.requested } }

    private var graceExpired: Bool {
        stopState.withLock { state in
            guard let after = state.abandonAfter else { return false }
            return DispatchTime.now().uptimeNanoseconds >= after
        }
    }

    /// Runs until stopped; returns the process exit code.
    public func run() throws(StartFailure) -> Int32 {
        let layout = configuration.layout
        try prepareDirectories(layout)
        let lock: InboxLock
        do {
            lock = try InboxLock(inbox: layout.inbox, pidFile: layout.pidFile)
        } catch {
            if case .heldByAnother = error { throw .anotherDaemon(error.description) }
            throw .setup(error.description)
        }
        let recovered: [RecoveredClaim]
        do {
            recovered = try Recovery(layout: layout, publisher: publisher, maxAttempts: configuration.maxAttempts, logger: logger).run()
        } catch {
            throw .setup("cannot recover the work area: \(error)")
        }
        if let link {
            do {
                try link.connect()
            } catch {
                throw .setup("cannot use the shared queue \(link.settings.location): \(error)")
            }
            logger.notice("shared queue", metadata: [
                "queue": "\(link.settings.location)", "shared": "\(link.settings.shared)", "owner": "\(link.owner)",
                "works": "\(link.settings.works)", "lease_s": "\(link.settings.leaseSeconds)",
            ])
        }
        let budget = makeMemoryBudget()
        memory.withLock { $0 = budget }
        let watcher = try makeWatcher()
        logger.notice("serving", metadata: [
            "inbox": "\(ResultNames.display(layout.inbox))", "outbox": "\(ResultNames.display(layout.outbox))",
            "watch": "\(watcher.modeName)", "tasks": "\(processor.registry.servedTasks.map(\.rawValue).joined(separator: ","))",
            "pid": "\(ProcessInfo.processInfo.processIdentifier)",
        ])

        // After recovery, which may archive inputs; before files flow.
        retention.start()
        let stages = DispatchGroup()
        startThread("watcher", group: stages) { [self] in
            let now = DispatchTime.now().uptimeNanoseconds
            for claim in recovered where !intakeQueue.put(.recovered(claim, seen: now)) { return }
            watcher.run { intakeQueue.put(.candidate($0)) }
            if !isStopping { requestStop(exitCode: 1, reason: "the watcher stopped (inbox lost?)") }
        }
        let intake = DispatchGroup()
        for index in 0..<max(1, configuration.intakeThreads) {
            startThread("intake-\(index)", group: intake) { [self] in intakeLoop() }
        }
        let compute = DispatchGroup()
        for lane in lanes.values.sorted(by: { $0.name < $1.name }) {
            startThread("lane-\(lane.name)", group: compute) { [self] in laneLoop(lane) }
        }
        let writers = DispatchGroup()
        for index in 0..<max(1, configuration.writerThreads) {
            startThread("writer-\(index)", group: writers) { [self] in writerLoop(index: index) }
        }

        link?.start { [self] job in intakeQueue.put(.leased(job, seen: DispatchTime.now().uptimeNanoseconds)) }
        counts.withLock { $0.ready = true }
        observer.observe(.ready)
        // The main loop: a heartbeat a second (systemd's watchdog and STATUS=)
        // until a stop is requested.
        while stopRequest.wait(timeout: .now() + 1) == .timedOut {
            cancelQueuedJobs()
            observer.observe(.heartbeat(status()))
        }
        // Stop taking files; what was not claimed yet stays in the inbox.
        watcher.stop()
        link?.stopClaiming()
        budget.close()
        handBack(intakeQueue.close(discarding: true))
        // Queued model work is handed back (closing also frees an intake thread
        // blocked on a full queue); every lane's running batch gets the grace period.
        for lane in lanes.values { handBack(lane.queue.close(discarding: true)) }
        _ = stages.wait(timeout: .now() + 2)
        intake.wait()
        let graceDeadline = DispatchTime.now() + .nanoseconds(Int(ComputeLane.nanoseconds(shutdownGrace)) + 500_000_000)
        if compute.wait(timeout: graceDeadline) == .timedOut {
            logger.warning("the running inference did not stop in time; its inputs are handed back")
        }
        // Results already decided are written: that only takes milliseconds.
        resultQueue.close()
        writers.wait()
        // Ends are recorded, leases still held (jobs not started) given back.
        link?.stop(grace: 5)
        let leftovers = inFlight.withLock { Array($0.values) }
        for claim in leftovers { workArea.handBack(claim) }
        if !leftovers.isEmpty {
            logger.notice("handed back unfinished inputs; they are processed at the next start", metadata: ["count": "\(leftovers.count)"])
        }
        retention.stop()
        withExtendedLifetime(lock) {}
        let exitCode = stopState.withLock { $0.exitCode }
        logger.notice("stopped", metadata: ["exit_code": "\(exitCode)"])
        return exitCode
    }

    // MARK: Stages

    private func intakeLoop() {
        let intake = FileIntake(processor: processor)
        while let item = intakeQueue.take() {
            if isStopping {
                if case let .recovered(recovered, _) = item { handBack(recovered) }
                continue
            }
            let claim: Claim
            let seen: UInt64
            switch item {
            case let .candidate(candidate):
                do {
                    guard let taken = try workArea.claim(name: candidate.name, folder: candidate.folder, expectedInode: candidate.inode) else { continue }
                    claim = taken
                } catch {
                    logger.error("cannot claim a file; it stays in the inbox", metadata: ["name": "\(ResultNames.display(candidate.relativePath))", "error": "\(error)"])
                    continue
                }
                seen = candidate.seen
            case let .recovered(.rerun(recoveredClaim), recoveredAt):
                claim = recoveredClaim
                seen = recoveredAt
                if link == nil, workArea.isCancelled(recoveredClaim) {
                    // `quern cancel` (or a deleted input) while the daemon was down.
                    inFlight.withLock { $0[claim.id] = claim }
                    let size = (try? FileOps.status(claim.inputPath))?.size
                    var timings = Timings()
                    timings.queued = Double(DispatchTime.now().uptimeNanoseconds &- recoveredAt) / 1e9
                    let document = processor.refusal(facts: InputFacts(name: claim.name, size: size, sha256: nil, kind: .unknown),
                                                     error: ComputeLane.cancelledError, claimID: claim.id, timings: timings)
                    resultQueue.put(Finished(origin: .file(claim), document: document))
                    continue
                }
            case let .recovered(.abandon(recoveredClaim, attempts), recoveredAt):
                inFlight.withLock { $0[recoveredClaim.id] = recoveredClaim }
                let size = (try? FileOps.status(recoveredClaim.inputPath))?.size
                let error = QuernError(.internalError, "Quern stopped \(attempts) times while processing this file (a crash or a kill); it is set aside so the daemon can carry on")
                var timings = Timings()
                timings.queued = Double(DispatchTime.now().uptimeNanoseconds &- recoveredAt) / 1e9
                let document = processor.refusal(facts: InputFacts(name: recoveredClaim.name, size: size, sha256: nil, kind: .unknown), error: error, claimID: recoveredClaim.id, timings: timings)
                resultQueue.put(Finished(origin: .file(recoveredClaim), document: document))
                continue
            case let .leased(job, leasedAt):
                // Decided without a model or a read: a job past its attempts
                // (like a local input that crashed the daemon --max-attempts
                // times), one refused when it was fed (too large, not a
                // regular file), or a damaged row.
                let exhausted = job.row.attemptsExhausted
                    ? QuernError(.internalError, "workers stopped while running this job \(job.row.attempts - 1) times, and it was leased \(job.row.leases - 1) times (a crash, a kill, or a lost connection to PostgreSQL); it is set aside so the queue can carry on")
                    : nil
                if let error = exhausted ?? job.problem ?? job.input.refusal {
                    var timings = Timings()
                    timings.queued = Double(DispatchTime.now().uptimeNanoseconds &- leasedAt) / 1e9
                    let document = processor.refusal(facts: InputFacts(name: job.input.name, size: job.input.size, sha256: nil, kind: .unknown),
                                                     error: error, claimID: job.id, timings: timings)
                    resultQueue.put(Finished(origin: .queued(job), document: document))
                    continue
                }
                admit(.queued(job), path: job.inputPath, name: job.input.name, route: job.route, seen: leasedAt, intake: intake)
                continue
            }
            inFlight.withLock { $0[claim.id] = claim }
            if let link {
                forward(claim, to: link, intake: intake)
                continue
            }
            let route = claim.folder.map { TaskFolders.route($0, inbox: configuration.layout.inbox) }
            admit(.file(claim), path: claim.inputPath, name: claim.name, route: route, seen: seen, intake: intake)
        }
    }

    /// Reads and inspects an input within the memory budget and queues it on
    /// its model's lane, or decides its result at once (a refused input).
    private func admit(_ origin: JobOrigin, path: [UInt8], name: [UInt8], route: FolderRoute?, seen: UInt64, intake: FileIntake) {
        // Read the file only when its peak memory fits the budget; until
        // then it waits as a claim on disk, not as bytes in a queue.
        let estimate = intake.memoryEstimate(path: path)
        if let budget = memory.withLock({ $0 }) {
            if estimate > budget.capacity {
                let error = QuernError(.inputTooLarge, "processing this file needs about \(Self.megabytes(estimate)) MB, more than the \(Self.megabytes(budget.capacity)) MB the memory budget leaves beside the loaded models (raise --max-memory)")
                let document = processor.refusal(facts: InputFacts(name: name, size: (try? FileOps.status(path))?.size, sha256: nil, kind: .unknown),
                                                 error: error, claimID: origin.id, timings: Timings())
                resultQueue.put(Finished(origin: origin, document: document))
                return
            }
            guard budget.reserve(estimate) else {
                // Closed: the daemon is stopping.
                if let claim = origin.claim { handBack([claim]) }
                return
            }
            reservations.withLock { $0[origin.id] = estimate }
        }
        if let claim = origin.claim { workArea.markRunning(claim) }
        let result = intake.inspect(path: path, name: name, seen: seen, route: route)
        if let claim = origin.claim { workArea.clearRunning(claim) }
        switch result.next {
        case .needsModel(var job, let pipeline):
            // A conversation turn re-run after a crash replaces what its
            // first run stored (the claim id survives the crash).
            job.turnKey = origin.id
            guard let lane = lanes[pipeline.lane] else {
                releaseMemory(of: origin.id)
                let error = QuernError(.internalError, "no lane runs \(pipeline.identity.name) (lane \(pipeline.lane))")
                resultQueue.put(Finished(origin: origin, document: ResultDocument(
                    claimID: origin.id, input: result.facts, task: result.task, outcome: .failure(error), model: nil,
                    timings: result.timings, quernVersion: processor.quernVersion)))
                return
            }
            let report = JobReport(claimID: origin.id, name: ResultNames.display(name), kind: result.facts.kind, task: job.request.task,
                                   model: pipeline.identity.name, lane: lane.name,
                                   waitedSeconds: result.timings.queued + result.timings.decode)
            observer.observe(.jobQueued(report))
            lane.queue.put(ClaimedWork(origin: origin, work: ModelWork(intake: result, job: job, pipeline: pipeline), report: report, seen: seen))
        case let .decided(error):
            releaseMemory(of: origin.id)
            let document = ResultDocument(
                claimID: origin.id, input: result.facts, task: result.task, outcome: .failure(error), model: nil,
                timings: result.timings, quernVersion: processor.quernVersion)
            resultQueue.put(Finished(origin: origin, document: document))
        }
    }

    /// Feeds a claimed inbox file to the shared queue, in an order a crash
    /// cannot break: the input is copied to shared storage (fsynced) before
    /// its row exists, and the local claim is archived only after the row
    /// exists. A crash anywhere leaves the claim in the work area; recovery
    /// feeds it again under the same key (its claim id), and the key makes
    /// the insert idempotent — never lost, never queued twice.
    private func forward(_ claim: Claim, to link: QueueLink, intake: FileIntake) {
        let key = claim.id
        var delay = 0.5
        var failures = 0
        while true {
            do {
                if try link.jobID(forKey: key) == nil {
                    // The folder's defaults as they are now travel with the job.
                    let (defaultsFile, defaultsProblem) = claim.folder.map { TaskFolders.defaultsFile(of: $0, inbox: configuration.layout.inbox) } ?? (nil, nil)
                    let job: NewJob
                    switch intake.read(path: claim.inputPath) {
                    case let .bytes(bytes):
                        let input = QueuedInput(name: claim.name, folder: claim.folder, defaultsFile: defaultsFile, defaultsProblem: defaultsProblem,
                                                size: bytes.count)
                        job = try link.storage.stageJob(key: key, input: input, bytes: bytes, maxAttempts: configuration.maxAttempts)
                    case let .refused(error, size):
                        let input = QueuedInput(name: claim.name, folder: claim.folder, defaultsFile: nil, refusal: error, size: size)
                        job = try link.storage.stageJob(key: key, input: input, bytes: nil, maxAttempts: configuration.maxAttempts)
                    }
                    let id = try link.enqueue(job)
                    logger.info("queued", metadata: [
                        "name": "\(ResultNames.display(Claim.relative(claim.name, in: claim.folder)))", "job": "\(id)", "kind": "\(job.kind)", "claim": "\(key)",
                    ])
                }
                // The input is in shared storage and its job exists: the local
                // copy goes to the archive (the keep-inputs settings apply).
                try publisher.archive(claim, succeeded: true)
                inFlight.withLock { $0[claim.id] = nil }
                return
            } catch {
                failures += 1
                if isStopping {
                    workArea.handBack(claim)
                    inFlight.withLock { $0[claim.id] = nil }
                    logger.error("cannot feed a file to the shared queue; it is fed at the next start", metadata: [
                        "name": "\(ResultNames.display(claim.name))", "claim": "\(key)", "error": "\(error)",
                    ])
                    return
                }
                if failures <= 3 || failures % 4 == 0 {
                    logger.error("cannot feed a file to the shared queue (shared storage or PostgreSQL unavailable?); retrying", metadata: [
                        "name": "\(ResultNames.display(claim.name))", "claim": "\(key)", "error": "\(error)", "retry_in_s": "\(delay)",
                    ])
                }
                backOff(&delay)
            }
        }
    }

    // MARK: The HTTP API's door

    /// How the daemon took a request from the HTTP API.
    public enum APIAdmission: Sendable {
        /// Queued on its model's lane, or decided at once (a bad request):
        /// either way its result comes through the call's `deliver`.
        case accepted
        /// Not taken now (starting or stopping, the model's queue full, the
        /// memory budget spent): the client should retry. Says why.
        case unavailable(String)
    }

    /// Takes a request from the HTTP API through the same intake a file
    /// goes through — inspected (kind, request fields, the route's task and
    /// defaults), admitted against --max-memory, queued on its model's lane —
    /// so both doors share validation, lanes, batching and limits. Never
    /// blocks: a full queue or a spent budget answers `.unavailable` (the
    /// inbox makes a file wait instead; an HTTP client retries).
    /// `configure` sees the job before it is queued (the API takes its
    /// streaming fields off it). Called off the HTTP event loop: inspection
    /// hashes and parses the body.
    public func submit(_ call: APICall, name: [UInt8], bytes: [UInt8], route: FolderRoute,
                       configure: (inout Job, ModelIdentity) -> Void = { _, _ in }) -> APIAdmission {
        guard counts.withLock({ $0.ready }), !isStopping else { return .unavailable("the daemon is starting or stopping") }
        let started = DispatchTime.now()
        var timings = Timings()
        if let budget = memory.withLock({ $0 }) {
            let estimate = MemoryEstimate.bytes(size: bytes.count, prefix: Array(bytes.prefix(MemoryEstimate.prefixLength)), limits: processor.inspector.limits)
            if estimate > budget.capacity {
                let error = QuernError(.inputTooLarge, "processing this request needs about \(Self.megabytes(estimate)) MB, more than the \(Self.megabytes(budget.capacity)) MB the memory budget leaves beside the loaded models (raise --max-memory)")
                decideAPI(call, document: processor.refusal(facts: InputFacts(name: name, size: bytes.count, sha256: nil, kind: .unknown), error: error,
                                                           claimID: call.id, timings: timings))
                return .accepted
            }
            guard budget.reserve(estimate) else { return .unavailable("the memory budget (--max-memory) is taken by inputs in progress") }
            reservations.withLock { $0[call.id] = estimate }
        }
        let inspected = processor.inspect(name: name, bytes: bytes, route: route)
        timings.decode = FileProcessor.seconds(since: started)
        timings.read = inspected.hashSeconds
        switch inspected.outcome {
        case let .success((job, pipeline)):
            var job = job
            job.turnKey = call.id
            configure(&job, pipeline.identity)
            guard let lane = lanes[pipeline.lane] else {
                releaseMemory(of: call.id)
                return .unavailable("no lane runs \(pipeline.identity.name)")
            }
            let report = JobReport(claimID: call.id, name: call.label, kind: inspected.facts.kind, task: job.request.task,
                                   model: pipeline.identity.name, lane: lane.name, waitedSeconds: timings.decode)
            let intake = IntakeResult(facts: inspected.facts, task: inspected.task, next: .needsModel(job: job, pipeline: pipeline), timings: timings)
            let work = ClaimedWork(origin: .api(call), work: ModelWork(intake: intake, job: job, pipeline: pipeline), report: report,
                                   seen: started.uptimeNanoseconds)
            guard lane.queue.offer(work) else {
                releaseMemory(of: call.id)
                return .unavailable("the \(lane.name) queue is full (\(configuration.queueCapacity) requests and files waiting)")
            }
            observer.observe(.jobQueued(report))
            return .accepted
        case let .failure(error):
            releaseMemory(of: call.id)
            decideAPI(call, document: ResultDocument(claimID: call.id, input: inspected.facts, task: inspected.task, outcome: .failure(error), model: nil,
                                                     timings: timings, quernVersion: processor.quernVersion))
            return .accepted
        }
    }

    /// An API request answered without a model (refused at intake).
    private func decideAPI(_ call: APICall, document: ResultDocument) {
        var document = document
        document.timings.total = document.timings.queued + document.timings.decode + document.timings.inference
        call.deliver(document)
        logProcessed(document, folder: nil, resultName: Array("(HTTP response)".utf8), writeSeconds: 0, label: call.label)
        reportFinished(document, lane: "intake", writeSeconds: 0, label: call.label)
    }

    /// One lane's thread: takes its model's jobs in batches and runs them.
    private func laneLoop(_ lane: Lane) {
        let runner = ComputeLane(timeout: configuration.timeout, logger: logger)
        while true {
            var batch = lane.queue.takeBatch(
                limit: { $0.work.pipeline.maxBatchSize },
                belongsWith: { batch, next in
                    // Same model; and never two turns of one conversation in a
                    // batch: a turn is rendered after the previous turn's reply,
                    // so it waits for the next batch (arrival order is kept).
                    // A request's `n` choices are sequences of the batch: the
                    // batch holds at most maxBatchSize sequences, so `n` never
                    // multiplies the memory a batch may take.
                    next.work.pipeline.identity == batch[0].work.pipeline.identity
                        && (next.work.job.conversation == nil || !batch.contains { $0.work.job.conversation == next.work.job.conversation })
                        && batch.reduce(next.work.job.choices) { $0 + $1.work.job.choices } <= next.work.pipeline.maxBatchSize
                })
            if batch.isEmpty { return }
            let truncated = ModelFiles.truncated()
            if !truncated.isEmpty {
                // Touching the missing pages would be a SIGBUS: stop cleanly
                // and let the supervisor start a process that loads the file anew.
                logger.critical("a model file was truncated while being served; stopping before it is read (replace model files by renaming a complete file over them)", metadata: [
                    "files": "\(truncated.joined(separator: ","))",
                ])
                handBack(batch)
                requestStop(exitCode: 1, reason: "a model file changed on disk")
                return
            }
            // Cancelled while waiting: answered without running.
            let cancelled = batch.filter { isCancelled($0.origin) }
            if !cancelled.isEmpty {
                finishCancelled(cancelled, lane: lane)
                batch.removeAll { item in cancelled.contains { $0.origin.id == item.origin.id } }
                if batch.isEmpty { continue }
            }
            if runBatch(batch, on: lane, runner: runner) == .abandoned { return }
        }
    }

    private func runBatch(_ batch: [ClaimedWork], on lane: Lane, runner: ComputeLane) -> ComputeLane.End {
        // Leased jobs are charged their attempt before the model runs.
        link?.markRan(batch.compactMap { if case let .queued(job) = $0.origin { return job } else { return nil } })
        let now = DispatchTime.now().uptimeNanoseconds
        let monitor = JobMonitor()
        var reports: [JobReport] = []
        for (slot, item) in batch.enumerated() {
            if let claim = item.origin.claim { workArea.markRunning(claim) }
            if case let .api(call) = item.origin, let partial = call.partial { monitor.listen(slot, partial) }
            var report = item.report
            report.waitedSeconds = Double(now &- item.seen) / 1e9
            reports.append(report)
            logger.info("started", metadata: [
                "name": "\(report.name)", "kind": "\(report.kind.rawValue)", "task": "\(report.task?.rawValue ?? "-")",
                "model": "\(report.model ?? "-")", "lane": "\(lane.name)", "claim": "\(report.claimID)",
                "queued_ms": "\(Self.milliseconds(item.work.intake.timings.queued + Double(now &- item.work.intake.readyAt) / 1e9))",
                "batch": "\(batch.count)",
            ])
            observer.observe(.jobStarted(report))
        }
        lane.began(reports.enumerated().map { Lane.RunningItem(report: $1, startedAt: now, slot: $0) }, monitor: monitor)
        ComputeThreads.laneStarted()
        heapTrim.laneStarted()
        defer {
            ComputeThreads.laneFinished()
            heapTrim.laneFinished()
            lane.ended()
        }
        let hooks = ComputeLane.Hooks(
            deliver: { [self] outcomes in
                for outcome in outcomes {
                    let item = batch[outcome.index]
                    lane.finished(slot: outcome.index)
                    if let claim = item.origin.claim { workArea.clearRunning(claim) }
                    releaseMemory(of: item.origin.id)
                    let document = ResultDocument(
                        claimID: item.origin.id, input: item.work.intake.facts, task: item.work.job.request.task, outcome: outcome.result,
                        model: item.work.pipeline.identity, timings: outcome.timings, quernVersion: processor.quernVersion,
                        partial: outcome.partial)
                    resultQueue.put(Finished(origin: item.origin, document: document, lane: lane.name))
                }
            },
            shouldAbandon: { [self] in graceExpired },
            onStuck: { [self] in requestStop(exitCode: 70, reason: "a pipeline ignored cancellation") },
            isCancelled: { [self] index in isCancelled(batch[index].origin) },
            poll: { [self] in logProgress(of: lane) })
        return runner.run(batch.map(\.work), monitor: monitor, hooks: hooks)
    }

    /// Progress lines for the lane's long-running jobs: the first after
    /// `progressAfter` seconds, then every `progressEvery` seconds.
    private func logProgress(of lane: Lane) {
        let now = DispatchTime.now().uptimeNanoseconds
        for (running, _) in lane.dueForProgress(now: now, after: Self.progressAfter, every: Self.progressEvery) {
            var metadata: Logger.Metadata = [
                "name": "\(running.job.name)", "task": "\(running.job.task?.rawValue ?? "-")", "lane": "\(lane.name)",
                "claim": "\(running.job.claimID)", "elapsed_s": "\(String(format: "%.1f", running.elapsedSeconds))",
            ]
            if let progress = running.progress {
                metadata["progress"] = "\(progress.summary)"
                if let fraction = progress.fraction { metadata["percent"] = "\(String(format: "%.1f", fraction * 100))" }
                observer.observe(.jobProgress(running.job, progress))
            }
            logger.info("working", metadata: metadata)
        }
    }

    /// Queued jobs whose claim was cancelled get their result now, not when
    /// their lane reaches them (a lane may be busy with a long job).
    private func cancelQueuedJobs() {
        for lane in lanes.values {
            let cancelled = lane.queue.remove { isCancelled($0.origin) }
            if !cancelled.isEmpty { finishCancelled(cancelled, lane: lane) }
        }
    }

    private func finishCancelled(_ items: [ClaimedWork], lane: Lane) {
        let now = DispatchTime.now().uptimeNanoseconds
        for item in items {
            releaseMemory(of: item.origin.id)
            var timings = item.work.intake.timings
            timings.queued += Double(now &- item.work.intake.readyAt) / 1e9
            let document = ResultDocument(
                claimID: item.origin.id, input: item.work.intake.facts, task: item.work.job.request.task,
                outcome: .failure(ComputeLane.cancelledError), model: item.work.pipeline.identity, timings: timings,
                quernVersion: processor.quernVersion)
            resultQueue.put(Finished(origin: item.origin, document: document, lane: lane.name))
        }
    }

    private func writerLoop(index: Int) {
        while let finished = resultQueue.take() {
            var document = finished.document
            document.timings.total = document.timings.queued + document.timings.decode + document.timings.inference
            let claim: Claim
            switch finished.origin {
            case let .file(fileClaim):
                claim = fileClaim
            case let .api(call):
                // No file: the result is the HTTP response.
                call.deliver(document)
                logProcessed(document, folder: nil, resultName: Array("(HTTP response)".utf8), writeSeconds: 0, label: call.label)
                reportFinished(document, lane: finished.lane, writeSeconds: 0, label: call.label)
                continue
            case let .queued(job):
                if let link { publishQueued(job, document: document, lane: finished.lane, writer: index, link: link) }
                continue
            }
            let bytes = JSONWriter.bytes(document.json, style: .pretty) + [0x0A]
            let writeStart = DispatchTime.now()
            var sidecars: [(format: SubtitleFormat, bytes: [UInt8])] = []
            if case let .success(.transcription(transcription)) = document.outcome {
                sidecars = transcription.files.map { ($0.format, Array($0.text.utf8)) }
            }
            switch publishRetrying(claim, bytes: bytes, sidecars: sidecars, succeeded: document.isSuccess) {
            case let .published(resultName):
                logProcessed(document, folder: claim.folder, resultName: resultName, writeSeconds: FileProcessor.seconds(since: writeStart))
                reportFinished(document, lane: finished.lane, writeSeconds: FileProcessor.seconds(since: writeStart))
                retention.inputArchived(claimID: claim.id, succeeded: document.isSuccess)
            case .publishedByAnEarlierTry:
                logProcessed(document, folder: claim.folder, resultName: Array("(published before a failed archive move)".utf8),
                             writeSeconds: FileProcessor.seconds(since: writeStart))
                reportFinished(document, lane: finished.lane, writeSeconds: FileProcessor.seconds(since: writeStart))
                retention.inputArchived(claimID: claim.id, succeeded: document.isSuccess)
            case .handedBack:
                observer.observe(.jobFinished(FinishedJob(job: jobReport(document, lane: finished.lane), status: .handedBack)))
            }
            inFlight.withLock { $0[claim.id] = nil }
        }
    }

    /// A leased job's result: written to the shared outbox under its job id,
    /// then its end handed to the queue's finisher. A job whose lease was
    /// lost meanwhile writes nothing: the worker holding it now does.
    private func publishQueued(_ job: LeasedJob, document: ResultDocument, lane: String, writer: Int, link: QueueLink) {
        guard !job.isLost else {
            logger.notice("dropped the result of a job whose lease was lost", metadata: ["job": "\(job.row.id)", "name": "\(ResultNames.display(job.input.name))"])
            link.forget(job)
            return
        }
        let bytes = JSONWriter.bytes(document.json, style: .pretty) + [0x0A]
        var sidecars: [(format: SubtitleFormat, bytes: [UInt8])] = []
        if case let .success(.transcription(transcription)) = document.outcome {
            sidecars = transcription.files.map { ($0.format, Array($0.text.utf8)) }
        }
        let writeStart = DispatchTime.now()
        var delay = 0.5
        while true {
            do {
                let location = try link.storage.publish(jobID: job.row.id, name: job.input.name, folder: job.input.folder,
                                                        writer: "\(link.token)-\(writer)", result: bytes, sidecars: sidecars)
                let text = QueueText.encode(location)
                let outcome: JobQueue.Outcome
                switch document.outcome {
                case .success: outcome = .done(resultLocation: text)
                case let .failure(error): outcome = .failed(code: error.code.rawValue, message: error.message, resultLocation: text)
                }
                link.finish(job, outcome: outcome, succeeded: document.isSuccess)
                let seconds = FileProcessor.seconds(since: writeStart)
                logProcessed(document, folder: job.input.folder, resultName: Array("shared:outbox/".utf8) + location, writeSeconds: seconds)
                reportFinished(document, lane: lane, writeSeconds: seconds)
                return
            } catch {
                if isStopping || job.isLost {
                    // Its lease is given back (or was lost): it runs again.
                    logger.error("cannot write a result to the shared outbox; the job runs again", metadata: [
                        "job": "\(job.row.id)", "error": "\(error)",
                    ])
                    return
                }
                logger.error("cannot write a result to the shared outbox; retrying", metadata: ["job": "\(job.row.id)", "error": "\(error)", "retry_in_s": "\(delay)"])
                backOff(&delay)
            }
        }
    }

    /// Waits `delay` seconds (cut short by a stop request), then doubles it
    /// up to 16 s: the pause between retries of a write or a feed.
    private func backOff(_ delay: inout Double) {
        let wakeAt = DispatchTime.now().uptimeNanoseconds + UInt64(delay * 1e9)
        while DispatchTime.now().uptimeNanoseconds < wakeAt, !isStopping { usleep(50_000) }
        delay = min(delay * 2, 16)
    }

    private enum Publication {
        case published(resultName: [UInt8])
        /// A failed try had already renamed the result into place.
        case publishedByAnEarlierTry
        case handedBack
    }

    /// Publishes a result, retrying with back-off while the outbox (or the
    /// archive) cannot be written — full, read-only, over quota — so inputs
    /// go on as soon as space frees up, without a restart. At shutdown the
    /// claim is handed back instead (its result is written at the next start).
    private func publishRetrying(_ claim: Claim, bytes: [UInt8], sidecars: [(format: SubtitleFormat, bytes: [UInt8])], succeeded: Bool) -> Publication {
        var delay = 0.5
        var failures = 0
        while true {
            do {
                let name = try publisher.publish(claim, result: bytes, sidecars: sidecars, succeeded: succeeded)
                return name.map { .published(resultName: $0) } ?? .publishedByAnEarlierTry
            } catch {
                failures += 1
                if isStopping {
                    workArea.handBack(claim)
                    logger.error("cannot write a result; the input is handed back and retried at the next start", metadata: [
                        "name": "\(ResultNames.display(claim.name))", "claim": "\(claim.id)", "error": "\(error)",
                    ])
                    return .handedBack
                }
                // Every failure while it is new, then one line a minute or so.
                if failures <= 3 || failures % 4 == 0 {
                    logger.error("cannot write a result (outbox full or read-only?); retrying", metadata: [
                        "name": "\(ResultNames.display(claim.name))", "claim": "\(claim.id)", "error": "\(error)",
                        "retry_in_s": "\(delay)", "failures": "\(failures)",
                    ])
                }
                backOff(&delay)
            }
        }
    }

    private func logProcessed(_ document: ResultDocument, folder: TaskName?, resultName: [UInt8], writeSeconds: Double, label: String? = nil) {
        var metadata: Logger.Metadata = [
            "name": "\(label ?? ResultNames.display(document.input.name))",
            "kind": "\(document.input.kind.rawValue)",
            "task": "\(document.task?.rawValue ?? "-")",
            "status": "\(document.status)",
            "result": "\(ResultNames.display(resultName))",
            "claim": "\(document.claimID ?? "-")",
            "queued_ms": "\(Self.milliseconds(document.timings.queued))",
            "decode_ms": "\(Self.milliseconds(document.timings.decode))",
            "inference_ms": "\(Self.milliseconds(document.timings.inference))",
            "total_ms": "\(Self.milliseconds(document.timings.total))",
            "write_ms": "\(Self.milliseconds(writeSeconds))",
        ]
        if let code = document.errorCode { metadata["code"] = "\(code.rawValue)" }
        if let folder { metadata["folder"] = "\(folder.rawValue)" }
        logger.info("processed", metadata: metadata)
    }

    /// `label`: how an API call is named (its route) instead of its input's stand-in name.
    private func jobReport(_ document: ResultDocument, lane: String, label: String? = nil) -> JobReport {
        JobReport(claimID: document.claimID ?? "-", name: label ?? ResultNames.display(document.input.name), kind: document.input.kind,
                  task: document.task, model: document.model?.name, lane: lane, waitedSeconds: document.timings.total)
    }

    private func reportFinished(_ document: ResultDocument, lane: String, writeSeconds: Double, label: String? = nil) {
        counts.withLock { counts in
            if document.isSuccess { counts.done += 1 } else { counts.failed += 1 }
        }
        let status: JobStatus = document.isSuccess ? .ok : (document.errorCode == .timeout ? .timeout : document.errorCode == .cancelled ? .cancelled : .error)
        let produced: TaskOutput?
        switch document.outcome {
        case let .success(output): produced = output
        case .failure: produced = document.partial
        }
        var tokens = 0
        var audioSeconds = 0.0
        switch produced {
        case let .chat(output)?: tokens = output.usage.completionTokens
        case let .completion(output)?: tokens = output.usage.completionTokens
        case let .transcription(output)?:
            // A whole transcription covers its duration; a partial one up to its last segment.
            audioSeconds = document.isSuccess ? (output.durationSeconds ?? 0) : (output.segments.last?.end ?? 0)
        default: break
        }
        observer.observe(.jobFinished(FinishedJob(
            job: jobReport(document, lane: lane, label: label), status: status, errorCode: document.errorCode?.rawValue,
            readSeconds: document.timings.read, decodeSeconds: max(0, document.timings.decode - document.timings.read),
            inferenceSeconds: document.timings.inference, writeSeconds: writeSeconds, queuedSeconds: document.timings.queued,
            generatedTokens: tokens, audioSeconds: audioSeconds)))
    }

    /// What the daemon is doing now (`quern status`, the status file, systemd's STATUS=).
    public func status() -> DaemonStatus {
        let (ready, done, failed) = counts.withLock { ($0.ready, $0.done, $0.failed) }
        let now = DispatchTime.now().uptimeNanoseconds
        let ordered = lanes.values.sorted { $0.name < $1.name }
        return DaemonStatus(
            pid: ProcessInfo.processInfo.processIdentifier, version: processor.quernVersion, startedAt: startedAt,
            takenAt: Date().timeIntervalSince1970, ready: ready,
            models: models,
            lanes: ordered.map { $0.status(now: now) },
            running: ordered.flatMap { $0.running(now: now) }, filesDone: done, filesFailed: failed, residentBytes: MemoryLimits.residentBytes())
    }

    /// Every model serving a task, once: loaded or not (models load on first
    /// use); the diagnostic pipeline, which has no weights, counts as loaded.
    private var models: [ModelStatus] {
        if let residency = processor.registry.residency {
            return residency.models.map {
                ModelStatus(name: $0.name, tasks: $0.tasks, loaded: $0.loaded, loadSeconds: $0.loadSeconds, weightBytes: $0.weightBytes)
            }
        }
        var byName: [String: [TaskName]] = [:]
        for task in processor.registry.servedTasks {
            guard let pipeline = processor.registry.pipeline(for: task) else { continue }
            byName[pipeline.identity.name, default: []].append(task)
        }
        return byName.keys.sorted().map { ModelStatus(name: $0, tasks: byName[$0] ?? [], loaded: true, loadSeconds: nil, weightBytes: 0) }
    }

    private static func milliseconds(_ seconds: Double) -> String { String(format: "%.3f", seconds * 1000) }

    // MARK: Set-up

    private func prepareDirectories(_ layout: DaemonLayout) throws(StartFailure) {
        do {
            for directory in [layout.inbox, layout.outbox, layout.work, layout.done, layout.failed] {
                try FileOps.makeDirectories(directory)
            }
            let inbox = try FileOps.status(layout.inbox)
            let outbox = try FileOps.status(layout.outbox)
            if inbox?.inode == outbox?.inode, inbox?.device == outbox?.device {
                throw StartFailure.setup("the outbox must not be the inbox: results would be read back as requests")
            }
            for (label, path) in [("--work", layout.work), ("the done archive", layout.done), ("the failed archive", layout.failed)] {
                guard try FileOps.status(path)?.device == inbox?.device else {
                    throw StartFailure.setup("\(label) (\(ResultNames.display(path))) must be on the inbox's file system: inputs are moved there with rename(2)")
                }
            }
            try TaskFolders.prepare(layout, logger: logger)
        } catch let failure as StartFailure {
            throw failure
        } catch {
            throw .setup("cannot prepare the directories: \(error)")
        }
    }

    private func makeWatcher() throws(StartFailure) -> any InboxWatcher {
        let layout = configuration.layout
        let scanner = InboxScanner(inbox: layout.inbox, logger: logger)
        do {
            if configuration.watchMode == .automatic {
                if FileSystemKind.isNetwork(layout.inbox) {
                    logger.notice("the inbox is on a network file system; polling", metadata: ["type": "\(FileSystemKind.type(of: layout.inbox) ?? "?")"])
                } else {
                    do {
                        return try InotifyWatcher(inbox: layout.inbox, scanner: scanner, settle: configuration.settle, recheckInterval: configuration.pollInterval, logger: logger)
                    } catch {
                        logger.warning("inotify is not available; polling instead", metadata: ["error": "\(error)"])
                    }
                }
            }
            return try PollingWatcher(scanner: scanner, interval: configuration.pollInterval, settle: configuration.settle)
        } catch {
            throw .setup("cannot watch the inbox: \(error)")
        }
    }

    private func startThread(_ name: String, group: DispatchGroup, _ body: @escaping @Sendable () -> Void) {
        group.enter()
        let thread = Thread {
            body()
            group.leave()
        }
        thread.name = "quern-\(name)"
        thread.start()
    }

    /// Leased jobs need nothing here: the queue link gives back every lease
    /// it still holds when it stops.
    private func handBack(_ items: [IntakeItem]) {
        for item in items {
            if case let .recovered(recovered, _) = item { handBack(recovered) }
        }
    }

    private func handBack(_ recovered: RecoveredClaim) {
        switch recovered {
        case let .rerun(claim), let .abandon(claim, _): workArea.handBack(claim)
        }
    }

    private func handBack(_ items: [ClaimedWork]) {
        for item in items {
            releaseMemory(of: item.origin.id)
            switch item.origin {
            case let .file(claim):
                inFlight.withLock { $0[claim.id] = nil }
                workArea.handBack(claim)
            case let .api(call):
                // Nothing on disk to hand back: the client is told to retry.
                let document = ResultDocument(
                    claimID: call.id, input: item.work.intake.facts, task: item.work.job.request.task, outcome: .failure(Self.stoppingError),
                    model: item.work.pipeline.identity, timings: item.work.intake.timings, quernVersion: processor.quernVersion)
                call.deliver(document)
            case .queued:
                // Its lease is given back when the queue link stops.
                break
            }
        }
    }

    static let stoppingError = QuernError(.unavailable, "the daemon is stopping; send the request again once it is back")

    /// Whether the job was cancelled: a file's claim by `quern cancel` (or
    /// its deleted input), an API call by its client hanging up.
    private func isCancelled(_ origin: JobOrigin) -> Bool {
        switch origin {
        case let .file(claim): return workArea.isCancelled(claim)
        case let .api(call): return call.isCancelled
        case let .queued(job): return job.isLost
        }
    }

    private func handBack(_ claims: [Claim]) {
        for claim in claims {
            inFlight.withLock { $0[claim.id] = nil }
            workArea.handBack(claim)
        }
    }

    private func releaseMemory(of claim: Claim) { releaseMemory(of: claim.id) }

    private func releaseMemory(of id: String) {
        guard let bytes = reservations.withLock({ $0.removeValue(forKey: id) }) else { return }
        memory.withLock { $0 }?.release(bytes)
    }

    /// --max-memory (default: three quarters of the cgroup's or machine's memory) less what
    /// the process holds besides its models; the models share it with the
    /// inputs (`ModelResidency` charges each loaded model's weights to it).
    private func makeMemoryBudget() -> MemoryBudget {
        let limit = configuration.maxMemory ?? (MemoryLimits.available().map { $0 / 4 * 3 } ?? (8 << 30))
        let models = processor.registry.residency?.loadedBytes ?? 0
        let resident = max(0, MemoryLimits.residentBytes() - models)
        let budget = MemoryBudget(capacity: max(limit - resident, 0))
        processor.registry.residency?.share(budget)
        processor.registry.conversations?.cache.share(budget)
        var metadata: Logger.Metadata = [
            "max_memory_mb": "\(Self.megabytes(limit))", "resident_mb": "\(Self.megabytes(resident))",
            "models_and_inputs_mb": "\(Self.megabytes(budget.capacity))", "models_loaded_mb": "\(Self.megabytes(models))",
        ]
        if configuration.maxMemory == nil { metadata["source"] = "three quarters of the cgroup or machine memory" }
        if budget.capacity < 64 << 20 {
            logger.warning("the memory budget leaves little room for inputs beside the models; larger files get input.too_large (raise --max-memory)", metadata: metadata)
        } else {
            logger.info("memory budget", metadata: metadata)
        }
        return budget
    }

    private static func megabytes(_ bytes: Int) -> Int { bytes / (1 << 20) }
}
