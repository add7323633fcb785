import Dispatch
import Foundation
import Synchronization

/// Runs one synchronous call on a thread of its own, so the compute lane can
/// wait for it with a deadline and keep watching for shutdown. The call itself
/// cannot be interrupted (preparation — decoding, resampling, tokenizing — has
/// no cancellation points); the lane only stops waiting for it.
final class BackgroundCall<Value: Sendable>: Sendable {
    private final class Slot: Sendable {
        let value = Mutex<Value?>(nil)
    }

    private let slot = Slot()
    private let finished = DispatchSemaphore(value: 0)

    init(name: String, _ body: @escaping @Sendable () -> Value) {
        let thread = Thread { [slot, finished] in
            let result = body()
            slot.value.withLock { $0 = result }
            finished.signal()
        }
        thread.name = name
        thread.start()
    }

    /// The value, or nil if the call is still running after `nanoseconds`.
    func wait(nanoseconds: UInt64) -> Value? {
        let capped = Int(min(nanoseconds, UInt64(Int.max)))
        if finished.wait(timeout: .now() + .nanoseconds(capped)) == .timedOut { return nil }
        finished.signal()  // keep the "finished" state for later waits
        return slot.value.withLock { $0 }
    }
}
