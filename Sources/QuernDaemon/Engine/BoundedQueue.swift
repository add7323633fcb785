import Foundation

/// A fixed-capacity FIFO between threads. `put` blocks while it is full, so
/// a slow stage holds back the one before it instead of letting memory grow.
final class BoundedQueue<Element: Sendable>: @unchecked Sendable {
    // All state is guarded by `condition`.
    private let condition = NSCondition()
    private var items: [Element?]
    private var head = 0
    private var count = 0
    private var closed = false

    init(capacity: Int) {
        items = Array(repeating: nil, count: max(1, capacity))
    }

    /// Elements waiting now.
    var waiting: Int {
        condition.lock()
        defer { condition.unlock() }
        return count
    }

    /// false if the queue was closed (the element is dropped).
    @discardableResult
    func put(_ element: Element) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while count == items.count, !closed { condition.wait() }
        if closed { return false }
        items[(head + count) % items.count] = element
        count += 1
        condition.broadcast()
        return true
    }

    /// Adds the element only if there is room now: false when the queue is
    /// full or closed (a caller that must not wait, an HTTP request, answers
    /// "busy" instead).
    func offer(_ element: Element) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard count < items.count, !closed else { return false }
        items[(head + count) % items.count] = element
        count += 1
        condition.broadcast()
        return true
    }

    /// Waits for an element; nil once the queue is closed and empty.
    func take() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while count == 0, !closed { condition.wait() }
        return removeFirst()
    }

    /// Waits for one element, then also takes the following ones that
    /// `belongsWith` accepts beside the batch so far, up to `limit` in all
    /// (batching same-model jobs); the first one it refuses starts the next batch.
    func takeBatch(limit: (Element) -> Int, belongsWith: ([Element], Element) -> Bool) -> [Element] {
        condition.lock()
        defer { condition.unlock() }
        while count == 0, !closed { condition.wait() }
        guard let first = removeFirst() else { return [] }
        var batch = [first]
        let limit = limit(first)
        while batch.count < limit, count > 0, let next = items[head], belongsWith(batch, next), let taken = removeFirst() {
            batch.append(taken)
        }
        return batch
    }

    /// The waiting elements, oldest first (a copy, for status reports).
    func snapshot() -> [Element] {
        condition.lock()
        defer { condition.unlock() }
        return (0..<count).compactMap { items[(head + $0) % items.count] }
    }

    /// Takes out every waiting element `matches` accepts (a cancelled job),
    /// keeping the others in order.
    func remove(where matches: (Element) -> Bool) -> [Element] {
        condition.lock()
        defer { condition.unlock() }
        var kept: [Element] = []
        var removed: [Element] = []
        for offset in 0..<count {
            guard let element = items[(head + offset) % items.count] else { continue }
            if matches(element) { removed.append(element) } else { kept.append(element) }
        }
        guard !removed.isEmpty else { return [] }
        for offset in 0..<items.count { items[offset] = nil }
        head = 0
        count = kept.count
        for (offset, element) in kept.enumerated() { items[offset] = element }
        condition.broadcast()
        return removed
    }

    /// Stops `put`; `take` drains what is left unless `discarding`, in which
    /// case the remaining elements are returned to the caller instead.
    @discardableResult
    func close(discarding: Bool = false) -> [Element] {
        condition.lock()
        defer { condition.unlock() }
        closed = true
        var dropped: [Element] = []
        if discarding {
            while let element = removeFirst() { dropped.append(element) }
        }
        condition.broadcast()
        return dropped
    }

    private func removeFirst() -> Element? {
        guard count > 0 else { return nil }
        let element = items[head]
        items[head] = nil
        head = (head + 1) % items.count
        count -= 1
        condition.broadcast()
        return element
    }
}
