import Foundation
import Logging
import QuernDaemon
import QuernPipelines
import QuernTestSupport
import Synchronization
import Testing

/// The events observers (status file, metrics, systemd) are built on, from a
/// `Daemon` run in this process on a scratch inbox with the diagnostic pipeline.
extension Integration {
    @Suite struct DaemonEvents {
        final class Recorder: DaemonObserver {
            let events = Mutex<[DaemonEvent]>([])
            func observe(_ event: DaemonEvent) { events.withLock { $0.append(event) } }
            var all: [DaemonEvent] { events.withLock { $0 } }
        }

        static func finished(_ events: [DaemonEvent], _ name: String) -> FinishedJob? {
            for case let .jobFinished(job) in events where job.job.name == name { return job }
            return nil
        }

        @Test func aJobIsQueuedStartedReportsProgressAndFinishesWithItsStages() async throws {
            let scratch = try Scratch()
            var configuration = DaemonConfiguration(layout: DaemonLayout(inbox: scratch.inbox.path, outbox: scratch.outbox.path, work: nil, done: nil, failed: nil))
            configuration.settle = 0.2
            configuration.timeout = .seconds(60)
            configuration.shutdownGrace = .seconds(1)
            let registry = try PipelineCatalog.makeRegistry(PipelineCatalog.Options(modelsDirectory: scratch.root.path, diagnostic: true))
            let processor = FileProcessor(registry: registry, inspector: InputInspector(limits: InputLimits()), quernVersion: "test", timeout: .seconds(60))
            let recorder = Recorder()
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            let daemon = Daemon(configuration: configuration, processor: processor, logger: logger, observer: recorder)
            let exit = Mutex<Int32?>(nil)
            let thread = Thread {
                let code = (try? daemon.run()) ?? -1
                exit.withLock { $0 = code }
            }
            thread.start()

            func waitFor(_ seconds: Double, _ condition: () -> Bool) async -> Bool {
                let deadline = Date().addingTimeInterval(seconds)
                while Date() < deadline {
                    if condition() { return true }
                    try? await Task.sleep(for: .milliseconds(20))
                }
                return condition()
            }
            #expect(await waitFor(10) { recorder.all.contains { if case .ready = $0 { true } else { false } } })

            // One after the other: dropped together, the two would share a batch,
            // and a batch's results come when its slowest input is done.
            try scratch.drop("quick.txt", text: "hello there\n")
            #expect(await waitFor(10) { Self.finished(recorder.all, "quick.txt") != nil })
            let quick = try #require(Self.finished(recorder.all, "quick.txt"))
            try scratch.drop("long.txt", Array("quern-diagnostic:hang\n".utf8))
            #expect(quick.status == .ok && quick.job.lane == "quern-diagnostic-chat" && quick.job.model == "quern-diagnostic")
            #expect(quick.readSeconds > 0 && quick.writeSeconds > 0 && quick.inferenceSeconds >= 0 && quick.queuedSeconds > 0)

            // The long job: queued, started, then progress once it has run 3 s.
            #expect(await waitFor(10) {
                recorder.all.contains { if case let .jobProgress(job, progress) = $0 { job.name == "long.txt" && progress.fraction != nil } else { false } }
            })
            let names: (DaemonEvent) -> String? = { event in
                switch event {
                case let .jobQueued(job): return "queued:" + job.name
                case let .jobStarted(job): return "started:" + job.name
                default: return nil
                }
            }
            let order = recorder.all.compactMap(names)
            #expect(order.firstIndex(of: "queued:long.txt").map { $0 < (order.firstIndex(of: "started:long.txt") ?? -1) } == true, "\(order)")
            let status = daemon.status()
            #expect(status.running.map(\.job.name) == ["long.txt"] && status.running.first?.progress != nil)
            #expect(status.lanes.contains { $0.name == "quern-diagnostic-chat" && $0.running == 1 })
            #expect(status.filesDone == 1)

            let marked = try CancelRequest.mark(name: "long.txt", work: scratch.work.path)
            #expect(marked.count == 1)
            #expect(await waitFor(5) { Self.finished(recorder.all, "long.txt") != nil })
            let long = try #require(Self.finished(recorder.all, "long.txt"))
            #expect(long.status == .cancelled && long.errorCode == "cancelled")

            daemon.requestStop(reason: "test over")
            #expect(await waitFor(15) { exit.withLock { $0 } != nil })
            #expect(exit.withLock { $0 } == 0)
            #expect(recorder.all.contains { if case .stopping = $0 { true } else { false } })
        }
    }
}
