import Foundation

/// The CPU quota a cgroup v2 gives this process (`cpu.max`), as whole CPUs.
///
/// A container or a systemd unit with `CPUQuota=150%` still shows every core
/// to `sched_getaffinity`; running one compute thread per visible core there
/// makes the threads take turns at the quota and spin against each other. So
/// the thread budget is the smaller of the affinity mask and the quota,
/// rounded up (1.5 CPUs → 2 threads).
public enum CgroupCPULimit {
    /// Whole CPUs a `cpu.max` line allows: `"max 100000"` (no limit) → nil,
    /// `"150000 100000"` → 2, `"50000 100000"` → 1. Malformed text → nil
    /// (an unreadable limit must not shrink the budget to nothing).
    public static func cpus(fromCPUMax text: String) -> Int? {
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" })
        guard let quotaText = fields.first, quotaText != "max" else { return nil }
        guard let quota = Int(quotaText), quota > 0 else { return nil }
        // The period is optional in what the kernel accepts on write; it reads back 100000 by default.
        let period: Int
        if fields.count >= 2 {
            guard let parsed = Int(fields[1]), parsed > 0 else { return nil }
            period = parsed
        } else {
            period = 100_000
        }
        return max(1, (quota + period - 1) / period)
    }

    /// This process's cgroup v2 path from `/proc/self/cgroup`'s `0::/path`
    /// line; nil on cgroup v1-only systems.
    public static func cgroupPath(fromProcSelfCgroup text: String) -> String? {
        for line in text.split(separator: "\n") where line.hasPrefix("0::") {
            return String(line.dropFirst(3))
        }
        return nil
    }

    /// The tightest `cpu.max` limit on this process's cgroup and its
    /// ancestors (a parent's quota binds its children too); nil when none
    /// is set or cgroup v2 is not mounted at `root`.
    public static func current(root: String = "/sys/fs/cgroup", procSelfCgroup: String = "/proc/self/cgroup") -> Int? {
        guard let text = try? String(contentsOfFile: procSelfCgroup, encoding: .utf8),
              let path = cgroupPath(fromProcSelfCgroup: text) else { return nil }
        var components = path.split(separator: "/").map(String.init)
        var tightest: Int?
        while true {
            let folder = components.isEmpty ? root : root + "/" + components.joined(separator: "/")
            if let line = try? String(contentsOfFile: folder + "/cpu.max", encoding: .utf8), let cpus = cpus(fromCPUMax: line) {
                tightest = min(tightest ?? cpus, cpus)
            }
            guard !components.isEmpty else { break }
            components.removeLast()
        }
        return tightest
    }
}
