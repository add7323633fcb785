import Foundation

/// One run of the `quern` binary with any subcommand and environment, its
/// exit status and both outputs (for option and help tests).
struct QuernInvocation {
    let status: Int32?
    let standardOutput: String
    let standardError: String

    /// Runs `quern <arguments>` with the caller's environment minus its
    /// QUERN_ variables, plus `environment`. A run past `timeout` seconds is
    /// killed and has a nil status.
    static func run(_ arguments: [String], environment: [String: String] = [:], timeout: Double = 30) throws -> QuernInvocation {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try QuernBinary.path)
        process.arguments = arguments
        var variables = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("QUERN_") }
        variables.merge(environment) { _, new in new }
        process.environment = variables
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Both pipes drained while waiting: a full pipe would stall the child.
        let collected = Collected()
        let group = DispatchGroup()
        for (pipe, keyPath) in [(output, \Collected.output), (errors, \Collected.errors)] {
            group.enter()
            DispatchQueue.global().async {
                collected[keyPath: keyPath] = pipe.fileHandleForReading.readDataToEndOfFile()
                group.leave()
            }
        }
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { usleep(10_000) }
        let finished = !process.isRunning
        if !finished { process.terminate() }
        process.waitUntilExit()
        group.wait()
        return QuernInvocation(status: finished ? process.terminationStatus : nil,
                               standardOutput: String(decoding: collected.output, as: UTF8.self),
                               standardError: String(decoding: collected.errors, as: UTF8.self))
    }
}

private final class Collected: @unchecked Sendable {
    var output = Data()  // each written once by its reader, read after the group is done
    var errors = Data()
}
