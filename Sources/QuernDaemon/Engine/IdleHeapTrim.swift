import Dispatch
import Foundation
import QuernTensor

/// Trims the heap once no lane has run a batch for `delay`.
///
/// A batch frees its activations when it ends (Whisper's encoder states and
/// KV caches, ResNet's feature maps, BERT's attention), but glibc keeps the
/// freed memory resident for reuse: without a trim a daemon that has served
/// one file of each kind holds about 100 MB more than its models need, for
/// as long as it sits idle. Trimming while work runs would cost speed (the
/// next operations fault the pages in again), so it waits until every lane
/// has been idle for `delay`: files arriving together, or a batch followed
/// by the next, never pay for it; the first file after a pause faults in its
/// working set once (milliseconds against the settle time a file waits).
final class IdleHeapTrim: @unchecked Sendable {
    /// How long every lane must have been idle; half a second covers the
    /// gap between one batch and the next of a queue being drained.
    static let defaultDelay: Duration = .milliseconds(500)

    let delay: Duration
    private let trim: @Sendable () -> Void
    private let lock = NSLock()
    private var busyLanes = 0
    /// Counts lane starts and ends: a trim scheduled when the last lane
    /// went idle runs only if nothing has started or ended since.
    private var generation = 0
    private let queue = DispatchQueue(label: "quern-heap-trim")

    init(delay: Duration = IdleHeapTrim.defaultDelay, trim: @escaping @Sendable () -> Void = { Heap.trim() }) {
        self.delay = delay
        self.trim = trim
    }

    /// A lane begins a batch.
    func laneStarted() {
        lock.lock()
        busyLanes += 1
        generation += 1
        lock.unlock()
    }

    /// A lane's batch ended; the last lane to go idle schedules the trim.
    func laneFinished() {
        lock.lock()
        busyLanes = max(0, busyLanes - 1)
        generation += 1
        let idle = busyLanes == 0, scheduled = generation
        lock.unlock()
        guard idle else { return }
        let (seconds, attoseconds) = delay.components
        let nanoseconds = Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)
        queue.asyncAfter(deadline: .now() + .nanoseconds(nanoseconds)) { [self] in
            lock.lock()
            let stillIdle = busyLanes == 0 && generation == scheduled
            lock.unlock()
            if stillIdle { trim() }
        }
    }
}
