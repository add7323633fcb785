#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import Synchronization

/// Tells systemd how the daemon is doing, as sd_notify(3) does, without
/// libsystemd: one datagram per message to the AF_UNIX socket named by
/// `NOTIFY_SOCKET` (a path, or `@name` for the abstract namespace).
///
/// - `READY=1` on `.ready` (models loaded or loadable, inbox watched);
/// - `STATUS=…` (queue, running, done, failed) from the heartbeat when it
///   changes, and at least every `statusInterval`;
/// - `WATCHDOG=1` from the heartbeat at half of `WATCHDOG_USEC` (only when
///   `WATCHDOG_PID` is unset or this process's pid): the heartbeat comes from
///   the main loop, so a daemon stuck there is restarted;
/// - `RELOADING=1` with `MONOTONIC_USEC` when SIGHUP's reload begins
///   (`reloading()`), `READY=1` again when it ended (`.reloaded`);
/// - `STOPPING=1` on `.stopping`.
///
/// Without `NOTIFY_SOCKET` it does nothing. Sends never block (the socket is
/// non-blocking): a systemd that is not listening costs a failed send, logged once.
public final class SystemdNotifier: DaemonObserver {
    private struct State {
        var lastStatus: String?
        var lastStatusAt: UInt64 = 0
        var lastWatchdogAt: UInt64 = 0
        var reportedFailure = false
    }

    private let descriptor: Int32
    private let address: [UInt8]
    /// Nanoseconds between WATCHDOG=1 messages; nil: no watchdog.
    private let watchdogInterval: UInt64?
    private let statusInterval: UInt64 = 5_000_000_000
    private let state = Mutex(State())
    private let logger: Logger?

    /// nil when `environment` has no usable NOTIFY_SOCKET (not under systemd).
    public init?(environment: [String: String], logger: Logger? = nil) {
        guard let socketName = environment["NOTIFY_SOCKET"], socketName.count > 1 else { return nil }
        var bytes = Array(socketName.utf8)
        // "@name": the abstract namespace, whose names start with a NUL byte.
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 } else if bytes.first != UInt8(ascii: "/") { return nil }
        guard bytes.count < MemoryLayout.size(ofValue: sockaddr_un().sun_path) else { return nil }
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard descriptor >= 0 else {
            logger?.warning("cannot make a socket to notify systemd", metadata: ["error": "\(String(cString: strerror(errno)))"])
            return nil
        }
        self.descriptor = descriptor
        address = bytes
        self.logger = logger
        watchdogInterval = Self.watchdogInterval(environment)
    }

    deinit { close(descriptor) }

    /// Half of WATCHDOG_USEC, when the watchdog is meant for this process.
    static func watchdogInterval(_ environment: [String: String]) -> UInt64? {
        guard let text = environment["WATCHDOG_USEC"], let microseconds = UInt64(text), microseconds > 0 else { return nil }
        if let pid = environment["WATCHDOG_PID"], let owner = Int32(pid), owner != getpid() { return nil }
        return microseconds * 1000 / 2
    }

    public func observe(_ event: DaemonEvent) {
        switch event {
        case .ready:
            send("READY=1")
            state.withLock { $0.lastWatchdogAt = Self.now() }
        case let .heartbeat(status):
            heartbeat(status)
        case .reloaded:
            // Whether the new configuration was taken or refused, the daemon
            // serves again (with the old one after a refusal).
            send("READY=1")
        case let .stopping(reason):
            send("STOPPING=1\nSTATUS=Stopping: \(Self.oneLine(reason))")
        default:
            break
        }
    }

    /// A SIGHUP reload begins (systemd's `Type=notify-reload` protocol;
    /// harmless with `Type=notify`).
    public func reloading() {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        let microseconds = UInt64(time.tv_sec) * 1_000_000 + UInt64(time.tv_nsec) / 1000
        send("RELOADING=1\nMONOTONIC_USEC=\(microseconds)")
    }

    private func heartbeat(_ status: DaemonStatus) {
        let now = Self.now()
        let text = Self.statusText(status)
        let (sendStatus, sendWatchdog) = state.withLock { state -> (Bool, Bool) in
            let statusDue = text != state.lastStatus || now &- state.lastStatusAt >= statusInterval
            if statusDue {
                state.lastStatus = text
                state.lastStatusAt = now
            }
            // The heartbeat comes about once a second: send when the next one
            // could be too late, so the gap never exceeds half the timeout by
            // more than the heartbeat's own jitter.
            var watchdogDue = false
            if let interval = watchdogInterval, now &- state.lastWatchdogAt + 1_000_000_000 >= interval {
                watchdogDue = true
                state.lastWatchdogAt = now
            }
            return (statusDue, watchdogDue)
        }
        if sendStatus { send("STATUS=" + text) }
        if sendWatchdog { send("WATCHDOG=1") }
    }

    /// "Serving: 3 queued, 1 running, 120 done, 2 failed".
    static func statusText(_ status: DaemonStatus) -> String {
        "Serving: \(status.queued) queued, \(status.running.count) running, \(status.filesDone) done, \(status.filesFailed) failed"
    }

    private static func oneLine(_ text: String) -> String {
        text.replacingOccurrences(of: "\n", with: " ")
    }

    private static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    private func send(_ message: String) {
        var socketAddress = sockaddr_un()
        socketAddress.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &socketAddress.sun_path) { path in
            for (index, byte) in address.enumerated() { path[index] = byte }
        }
        // A path is NUL-terminated; an abstract name is exactly its bytes.
        let isAbstract = address.first == 0
        let length = socklen_t(MemoryLayout<sa_family_t>.size + address.count + (isAbstract ? 0 : 1))
        let bytes = Array(message.utf8)
        let sent = bytes.withUnsafeBytes { buffer in
            withUnsafePointer(to: &socketAddress) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                    sendto(descriptor, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT), address, length)
                }
            }
        }
        if sent < 0 {
            let reason = String(cString: strerror(errno))
            let first = state.withLock { state -> Bool in
                defer { state.reportedFailure = true }
                return !state.reportedFailure
            }
            if first {
                logger?.warning("cannot notify systemd (NOTIFY_SOCKET); carrying on without it", metadata: ["error": "\(reason)"])
            }
        }
    }
}
