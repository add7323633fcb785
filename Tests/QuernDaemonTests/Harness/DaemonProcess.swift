import Foundation
import QuernTestSupport

/// A `quern serve` child process on a scratch tree, its stderr in a log file.
/// It runs the diagnostic pipeline unless `diagnostic` is false (real models,
/// from `--models` in `arguments`).
final class DaemonProcess {
    let process = Process()
    let logURL: URL

    init(scratch: Scratch, arguments: [String] = [], environment: [String: String] = [:], logName: String = "daemon.log",
         diagnostic: Bool = true) throws {
        logURL = scratch.root.appendingPathComponent(logName)
        // A log file the test made stays the same file (its inode may be
        // what the test points JOURNAL_STREAM at).
        if !FileManager.default.fileExists(atPath: logURL.path) {
            _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        }
        let log = try FileHandle(forWritingTo: logURL)
        try log.seekToEnd()
        process.executableURL = URL(fileURLWithPath: try QuernBinary.path)
        process.arguments = ["serve", "--inbox", scratch.inbox.path, "--outbox", scratch.outbox.path]
            + (diagnostic ? ["--diagnostic-pipeline"] : []) + arguments
        var variables = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("QUERN_") }
        variables.merge(environment) { _, new in new }
        process.environment = variables
        process.standardError = log
        process.standardOutput = FileHandle.nullDevice
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    /// Waits for the "serving" line, so the watch is in place.
    func waitUntilServing(timeout: Double = 10) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if log.contains("msg=serving") { return true }
            if !process.isRunning { return false }
            usleep(10_000)
        }
        return false
    }

    /// Exit status, or nil if still running after `timeout` seconds.
    func waitForExit(timeout: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { usleep(10_000) }
        if process.isRunning { return nil }
        return process.terminationStatus
    }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// The process's peak resident memory so far (VmHWM in /proc), in
    /// kilobytes; nil once it has exited.
    var peakResidentKilobytes: Int? {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        return status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }
            .flatMap { $0.split(separator: " ").dropFirst().first.flatMap { Int($0) } }
    }

    /// SIGKILL and reap.
    func killHard() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}
