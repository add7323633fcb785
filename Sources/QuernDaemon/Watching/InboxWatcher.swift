/// Finds inbox entries that are ready and hands them to `emit`, which blocks
/// while the claim queue is full (that is the back-pressure that keeps a
/// burst of 10,000 files from growing memory). `emit` returns false once the
/// daemon is stopping; `run` then returns.
protocol InboxWatcher: Sendable {
    var modeName: String { get }
    func run(emit: (Candidate) -> Bool)
    /// Makes `run` return soon, from any thread.
    func stop()
}
