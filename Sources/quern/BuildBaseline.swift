import CQuernCPUCheck

/// Which CPU this binary's Swift code was compiled for (QUERN_TARGET_CPU at
/// build time) and the instruction-set extensions that lets it use. The
/// start-up check (CQuernCPUCheck, before main) has already refused a CPU
/// that lacks any of them.
enum BuildBaseline {
    static var targetCPU: String { String(cString: quern_cpu_build_target()) }

    /// The extensions the build needs, as /proc/cpuinfo names them.
    static var requiredFeatures: [String] { names(quern_cpu_required_features()) }

    /// The extensions this CPU has (and the OS enabled), of those the check knows.
    static var availableFeatures: [String] { names(quern_cpu_available_features()) }

    private static func names(_ bits: UInt64) -> [String] {
        (0..<Int(quern_cpu_feature_count())).compactMap { feature in
            guard bits & (UInt64(1) << UInt64(feature)) != 0, let name = quern_cpu_feature_name(Int32(feature)) else { return nil }
            return String(cString: name)
        }
    }
}
