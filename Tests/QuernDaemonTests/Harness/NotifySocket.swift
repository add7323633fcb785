import Foundation
import QuernTestSupport

/// A datagram socket standing in for systemd's notification socket: the
/// daemon under test gets its name in NOTIFY_SOCKET and sends READY=1,
/// STATUS=…, WATCHDOG=1, STOPPING=1 to it.
final class NotifySocket {
    let descriptor: Int32
    /// What NOTIFY_SOCKET is set to: the path, or "@name" for an abstract socket.
    let name: String
    private(set) var messages: [String] = []

    /// Bound at `path`, or in the abstract namespace when `abstract` (the name then starts with @).
    init(path: String, abstract: Bool = false) throws {
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard descriptor >= 0 else { throw HarnessError("socket failed: \(errno)") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        if abstract { bytes.insert(0, at: 0) }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in bytes.enumerated() { buffer[index] = byte }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (abstract ? 0 : 1))
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        guard bound == 0 else {
            close(descriptor)
            throw HarnessError("bind \(path) failed: \(errno)")
        }
        self.descriptor = descriptor
        name = abstract ? "@" + path : path
    }

    deinit { close(descriptor) }

    /// Reads every datagram waiting (never blocks).
    func drain() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count <= 0 { return }
            messages.append(String(decoding: buffer[0..<count], as: UTF8.self))
        }
    }

    /// Waits until a message containing `field` (e.g. "READY=1") has arrived.
    func waitFor(_ field: String, timeout: Double) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            drain()
            if index(of: field) != nil { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        drain()
        return index(of: field) != nil
    }

    /// The position of the first message carrying `field` as one of its lines.
    func index(of field: String) -> Int? {
        messages.firstIndex { message in
            message.split(separator: "\n").contains { $0 == field || (field.hasSuffix("=") && $0.hasPrefix(field)) }
        }
    }
}

/// Polls `condition` every 20 ms without blocking a test thread; false on timeout.
func eventually(timeout: Double, _ condition: () -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return condition()
}
