#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Names a claim: the daemon's start time (hex nanoseconds) and a counter,
/// e.g. `18a3f9c2b4d5e6f7-000042`. Plain ASCII of fixed shape, so work-area
/// and archive entries never inherit the input name's length or bytes, and
/// sort in claim order.
final class ClaimIDGenerator: Sendable {
    private let prefix: String
    private let counter = Atomic<Int>(0)

    init() {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let nanoseconds = UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
        prefix = String(nanoseconds, radix: 16)
    }

    func next() -> String {
        let value = counter.wrappingAdd(1, ordering: .relaxed).newValue
        let digits = String(value)
        return prefix + "-" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }

    static func isClaimID(_ name: [UInt8]) -> Bool {
        guard let dash = name.firstIndex(of: UInt8(ascii: "-")), dash > 0, dash < name.count - 1 else { return false }
        let hex = name[..<dash].allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
        let digits = name[(dash + 1)...].allSatisfy { (0x30...0x39).contains($0) }
        return hex && digits
    }
}
