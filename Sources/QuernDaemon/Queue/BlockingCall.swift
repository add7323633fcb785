import Dispatch
import Synchronization

/// Runs async work (the PostgreSQL client is async) from the daemon's own
/// threads, waiting at most `seconds`: a pipeline thread never blocks a
/// thread of Swift's cooperative pool, and a server that does not answer
/// costs a timeout, never a hung stage.
enum BlockingCall {
    struct TimedOut: Error, CustomStringConvertible {
        var seconds: Double
        var description: String { "no answer from PostgreSQL within \(seconds) s" }
    }

    static func run<Value: Sendable>(seconds: Double, _ body: @escaping @Sendable () async throws -> Value) throws -> Value {
        let outcome = Mutex<Result<Value, any Error>?>(nil)
        let finished = DispatchSemaphore(value: 0)
        let task = Task {
            let result: Result<Value, any Error>
            do { result = .success(try await body()) } catch { result = .failure(error) }
            outcome.withLock { $0 = result }
            finished.signal()
        }
        if finished.wait(timeout: .now() + .nanoseconds(Int(seconds * 1e9))) == .timedOut {
            task.cancel()
            throw TimedOut(seconds: seconds)
        }
        return try outcome.withLock { $0! }.get()
    }
}
