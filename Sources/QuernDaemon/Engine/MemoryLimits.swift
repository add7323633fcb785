import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The memory this process may use and uses.
enum MemoryLimits {
    /// The smallest of the cgroup's limit (v2 `memory.max`, v1
    /// `memory.limit_in_bytes`) and the machine's memory; nil if none is readable.
    static func available() -> Int? {
        var limits: [Int] = []
        if let meminfo = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
           let line = meminfo.split(separator: "\n").first(where: { $0.hasPrefix("MemTotal:") }),
           let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) {
            limits.append(kilobytes * 1024)
        }
        if let cgroups = try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8) {
            for line in cgroups.split(separator: "\n") {
                let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
                guard fields.count == 3 else { continue }
                let path = String(fields[2])
                let candidates: [String]
                if fields[0] == "0", fields[1].isEmpty {
                    candidates = ["/sys/fs/cgroup\(path)/memory.max", "/sys/fs/cgroup/memory.max"]
                } else if fields[1].split(separator: ",").contains("memory") {
                    candidates = ["/sys/fs/cgroup/memory\(path)/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.limit_in_bytes"]
                } else {
                    continue
                }
                for candidate in candidates {
                    if let text = try? String(contentsOfFile: candidate, encoding: .utf8),
                       let value = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), value > 0, value < Int.max / 2 {
                        limits.append(value)
                        break
                    }
                }
            }
        }
        return limits.min()
    }

    /// Resident set size now (models mapped and touched count).
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
