import Foundation

/// A temporary directory tree for one test: inbox/, outbox/ and a place for
/// logs, removed at the end.
public final class Scratch {
    public let root: URL
    public var inbox: URL { root.appendingPathComponent("inbox") }
    public var outbox: URL { root.appendingPathComponent("outbox") }
    public var staging: URL { root.appendingPathComponent("staging") }
    public var work: URL { inbox.appendingPathComponent(".quern/work") }
    public var done: URL { inbox.appendingPathComponent(".quern/archive/done") }
    public var failed: URL { inbox.appendingPathComponent(".quern/archive/failed") }

    public init() throws {
        var template = Array("/tmp/quern-test-XXXXXX".utf8CString)
        guard let created = mkdtemp(&template) else { throw HarnessError("mkdtemp failed") }
        root = URL(fileURLWithPath: String(cString: created))
        for directory in [inbox, outbox, staging] {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        }
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    /// Writes to staging/, then renames into the inbox: the way producers should drop files.
    public func drop(_ name: String, _ contents: [UInt8]) throws {
        let staged = staging.appendingPathComponent(name)
        try Data(contents).write(to: staged)
        guard rename(staged.path, inbox.appendingPathComponent(name).path) == 0 else { throw HarnessError("rename failed: \(errno)") }
    }

    public func drop(_ name: String, text: String) throws { try drop(name, Array(text.utf8)) }

    /// Visible results (no hidden temp files), by file name.
    public func resultNames() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: outbox.path)) ?? []).filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }
    }

    public func result(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: outbox.appendingPathComponent(name))
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else { throw HarnessError("\(name) is not an object") }
        return object
    }

    public func entries(_ directory: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted()
    }

    /// Waits until `condition` holds, checking every 20 ms; false on timeout.
    public func waitUntil(timeout: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            usleep(20_000)
        }
        return condition()
    }
}

/// A harness step that failed (mkdtemp, rename, a result that is not JSON).
public struct HarnessError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
