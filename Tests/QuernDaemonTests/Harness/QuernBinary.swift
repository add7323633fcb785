import Foundation
import Testing

/// The `quern` executable built next to this test bundle (on Linux,
/// `.build/<config>/QuernPackageTests.xctest` sits beside `.build/<config>/quern`).
/// QUERN_BINARY overrides it.
enum QuernBinary {
    static var path: String {
        get throws {
            if let override = ProcessInfo.processInfo.environment["QUERN_BINARY"], !override.isEmpty { return override }
            let bundle = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
            let candidate = URL(fileURLWithPath: bundle).deletingLastPathComponent().appendingPathComponent("quern").path
            guard FileManager.default.isExecutableFile(atPath: candidate) else {
                throw HarnessError("the quern binary is not at \(candidate): build it first (swift build --product quern, same configuration and scratch path as the tests)")
            }
            return candidate
        }
    }

    /// Runs `quern run <arguments>` (without the caller's QUERN_ variables)
    /// and returns its exit status and standard output's lines.
    static func run(_ arguments: [String]) throws -> (status: Int32, lines: [String]) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try path)
        process.arguments = ["run"] + arguments
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("QUERN_") }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init))
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
