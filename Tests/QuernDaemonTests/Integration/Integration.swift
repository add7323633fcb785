import Foundation
import QuernTestSupport
import Testing

/// Tests that run the real `quern` binary on temporary directories. One at a
/// time: each starts daemons, and the machine has two cores.
@Suite(.serialized) enum Integration {}

extension Scratch {
    /// Every visible result, keyed by its input's name (hex of the bytes when not UTF-8).
    func resultsByInput() throws -> [String: [String: Any]] {
        var byInput: [String: [String: Any]] = [:]
        for name in RawNames.entries(outbox) where name.first != UInt8(ascii: ".") && !isTaskFolder(outbox, name) {
            let data = try readRaw(RawNames.join(outbox, name))
            guard let document = try JSONSerialization.jsonObject(with: Data(data)) as? [String: Any],
                  let input = document["input"] as? [String: Any] else { throw HarnessError("unreadable result \(name)") }
            let key = (input["name_hex"] as? String) ?? (input["name"] as? String) ?? "?"
            if byInput[key] != nil { throw HarnessError("two results for input \(key)") }
            byInput[key] = document
        }
        return byInput
    }

    func readRaw(_ path: [UInt8]) throws -> [UInt8] {
        let descriptor = open(RawNames.c(path), O_RDONLY)
        guard descriptor >= 0 else { throw HarnessError("open failed: \(errno)") }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            bytes += buffer[0..<count]
        }
        return bytes
    }

    /// Visible results count (no temp files).
    var resultCount: Int { RawNames.entries(outbox).filter { $0.first != UInt8(ascii: ".") && !isTaskFolder(outbox, $0) }.count }

    /// Inputs still waiting in the inbox (hidden entries and the task folders excluded).
    var inboxCount: Int { RawNames.entries(inbox).filter { $0.first != UInt8(ascii: ".") && !isTaskFolder(inbox, $0) }.count }

    static let taskFolderNames: Set<String> = ["chat", "complete", "embed", "classify", "transcribe"]

    /// The task folders `quern serve` makes in the inbox and the outbox (real
    /// directories by those names), which are neither inputs nor results.
    func isTaskFolder(_ directory: URL, _ name: [UInt8]) -> Bool {
        guard Self.taskFolderNames.contains(String(decoding: name, as: UTF8.self)) else { return false }
        var info = stat()
        return lstat(RawNames.c(RawNames.join(directory, name)), &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
    }

    var temporaryResults: [[UInt8]] { RawNames.entries(outbox).filter { $0.first == UInt8(ascii: ".") } }
}

func errorCode(_ document: [String: Any]?) -> String? {
    (document?["error"] as? [String: Any])?["code"] as? String
}

func status(_ document: [String: Any]?) -> String? { document?["status"] as? String }
