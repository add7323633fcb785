import Dispatch
import QuernPipelines
import Synchronization

/// An input routed to a model, waiting in (or taken from) its lane's queue.
struct ClaimedWork: Sendable {
    var origin: JobOrigin
    var work: ModelWork
    var report: JobReport
    /// Monotonic nanoseconds when the file was first seen (its age in status).
    var seen: UInt64
}

/// One model's lane: its own bounded queue and its own worker thread, so a
/// long transcription never holds up a chat, an embedding or an image. The
/// daemon makes one per pipeline lane (`AnyPipeline.lane`: one per model).
final class Lane: Sendable {
    /// An input of the batch the lane's thread is running.
    struct RunningItem: Sendable {
        var report: JobReport
        /// Monotonic nanoseconds when the lane took it.
        var startedAt: UInt64
        /// Its slot in the batch's `JobMonitor`.
        var slot: Int
        /// When its last progress line was logged (0: none yet).
        var lastLogged: UInt64 = 0
    }

    private struct Current: Sendable {
        var items: [RunningItem] = []
        var monitor: JobMonitor?
    }

    let name: String
    let queue: BoundedQueue<ClaimedWork>
    private let current = Mutex(Current())

    init(name: String, capacity: Int) {
        self.name = name
        queue = BoundedQueue(capacity: capacity)
    }

    /// The lane's thread took a batch.
    func began(_ items: [RunningItem], monitor: JobMonitor) {
        current.withLock { $0 = Current(items: items, monitor: monitor) }
    }

    /// Input `slot`'s result is decided; it is no longer running.
    func finished(slot: Int) {
        current.withLock { $0.items.removeAll { $0.slot == slot } }
    }

    func ended() {
        current.withLock { $0 = Current() }
    }

    /// The running inputs with their elapsed seconds and last progress.
    func running(now: UInt64) -> [RunningJob] {
        current.withLock { state in
            state.items.map { item in
                RunningJob(job: item.report, elapsedSeconds: Self.seconds(now &- item.startedAt), progress: state.monitor?.progress(item.slot))
            }
        }
    }

    /// Inputs that have run for `after` seconds and whose last progress line
    /// is `every` seconds old (or that have none yet), marked as logged now.
    func dueForProgress(now: UInt64, after: Double, every: Double) -> [(job: RunningJob, first: Bool)] {
        current.withLock { state in
            var due: [(job: RunningJob, first: Bool)] = []
            for index in state.items.indices {
                let item = state.items[index]
                let elapsed = Self.seconds(now &- item.startedAt)
                guard elapsed >= after else { continue }
                if item.lastLogged != 0, Self.seconds(now &- item.lastLogged) < every { continue }
                state.items[index].lastLogged = now
                due.append((RunningJob(job: item.report, elapsedSeconds: elapsed, progress: state.monitor?.progress(item.slot)), item.lastLogged == 0))
            }
            return due
        }
    }

    /// Queue length, running count and the longest-waiting input.
    func status(now: UInt64) -> LaneStatus {
        let waiting = queue.snapshot()
        let running = current.withLock { $0.items.count }
        let oldest = waiting.min { $0.seen < $1.seen }
        return LaneStatus(name: name, queued: waiting.count, running: running, oldestWaitingName: oldest?.report.name,
                          oldestWaitingSeconds: oldest.map { Self.seconds(now &- $0.seen) })
    }

    static func seconds(_ nanoseconds: UInt64) -> Double { Double(nanoseconds) / 1e9 }
}
