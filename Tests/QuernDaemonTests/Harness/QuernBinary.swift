import Foundation
import QuernTestSupport
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
        let (status, lines) = try run(arguments, timeout: nil)
        return (status ?? -1, lines)
    }

    /// The same with a deadline: a hang is a failure (status nil), not a stuck suite.
    static func run(_ arguments: [String], timeout: Double?) throws -> (status: Int32?, lines: [String]) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try path)
        process.arguments = ["run"] + arguments
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("QUERN_") }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Drain stdout while waiting: a full pipe would stall the child.
        let collected = OutputBox()
        let drained = DispatchSemaphore(value: 0)
        let reader = output.fileHandleForReading
        DispatchQueue.global().async {
            collected.data = reader.readDataToEndOfFile()
            drained.signal()
        }
        if let timeout {
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning, Date() < deadline { usleep(20_000) }
            if process.isRunning {
                process.terminate()
                process.waitUntilExit()
                drained.wait()
                return (nil, [])
            }
        }
        process.waitUntilExit()
        drained.wait()
        return (process.terminationStatus, String(decoding: collected.data, as: UTF8.self).split(separator: "\n").map(String.init))
    }
}

private final class OutputBox: @unchecked Sendable {
    var data = Data()  // written once by the reader, read after it signalled
}

