import Foundation
import Testing

extension Integration {
    /// The start-up CPU check (Sources/CQuernCPUCheck): a binary on a CPU
    /// below its build's baseline says what is missing and exits 69, never SIGILL.
    @Suite struct CPUBaseline {
        /// The features `quern info` says the build needs.
        private func requiredFeatures() throws -> (target: String, features: [String]) {
            let info = try QuernInvocation.run(["info"])
            #expect(info.status == 0, "\(info.standardError)")
            let line = try #require(info.standardOutput.split(separator: "\n").first { $0.hasPrefix("built for: ") }, "\(info.standardOutput)")
            // "built for: native (needs sse3 ssse3 …)" or "(needs no extension beyond x86-64)"
            let text = line.dropFirst("built for: ".count)
            let target = String(text.prefix { $0 != " " })
            guard let open = text.firstIndex(of: "("), text.contains("(needs "), !text.contains("no extension") else { return (target, []) }
            let inside = text[text.index(open, offsetBy: "(needs ".count)...].dropLast()
            return (target, inside.split(separator: " ").map(String.init))
        }

        @Test func infoNamesTheBaselineAndTheCheckPassesOnTheBuildMachine() throws {
            let (target, features) = try requiredFeatures()
            #expect(!target.isEmpty)
            // The machine that built it has what it was built for.
            let plain = try QuernInvocation.run(["--version"])
            #expect(plain.status == 0, "\(plain.standardError)")
            if target == "native" || target.hasPrefix("x86-64-v") { #expect(features.contains("sse3")) }
        }

        @Test func aCPUWithoutARequiredFeatureIsRefusedWithAMessage() throws {
            let (target, features) = try requiredFeatures()
            guard let last = features.last, let first = features.first else { return }  // a plain x86-64 build needs nothing to refuse
            let refused = try QuernInvocation.run(["serve", "--diagnostic-pipeline"], environment: ["QUERN_CPU_CHECK_PRETEND_MISSING": "\(first),\(last),nonsense"])
            #expect(refused.status == 69, "\(refused.standardError)")
            #expect(refused.standardError.contains("this binary was built for the CPU '\(target)' and cannot run here: this CPU lacks \(first == last ? first : first + " " + last)."),
                    "\(refused.standardError)")
            #expect(refused.standardError.contains("scripts/build-portable.sh"))
            #expect(refused.standardOutput.isEmpty)
            // Names it does not need change nothing.
            let unneeded = try QuernInvocation.run(["--version"], environment: ["QUERN_CPU_CHECK_PRETEND_MISSING": "nonsense"])
            #expect(unneeded.status == 0)
        }
    }
}
