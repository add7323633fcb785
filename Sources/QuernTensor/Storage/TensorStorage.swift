/// A 64-byte aligned buffer of Float32 values. Tensors share it by
/// reference, so slices and reshapes cost nothing.
public final class TensorStorage: @unchecked Sendable {
    let base: UnsafeMutablePointer<Float>
    public let count: Int
    /// Set when the values live in memory someone else owns (a mapped
    /// checkpoint); such storage is only ever read.
    private let owner: AnyObject?
    private let owned: Bool

    /// Storage of `count` values, zero-initialised unless `zeroed` is false
    /// (for an operation that writes every value before anything reads it).
    init(count: Int, zeroed: Bool = true) {
        precondition(count >= 0)
        let raw = LargeBuffers.allocate(byteCount: max(count, 1) * 4, zeroed: zeroed)
        base = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        self.count = count
        owner = nil
        owned = true
    }

    /// Read-only storage over `count` floats that `owner` keeps alive.
    init(borrowing pointer: UnsafeMutablePointer<Float>, count: Int, owner: AnyObject?) {
        base = pointer
        self.count = count
        self.owner = owner
        owned = false
    }

    deinit { if owned { LargeBuffers.deallocate(UnsafeMutableRawPointer(base), byteCount: max(count, 1) * 4) } }
}
