#if canImport(Glibc)
import Glibc
#endif
import QuernPipelines

/// The folder every node of a queue shares (NFS, or a local path on one
/// machine): inputs wait there for a worker, results land there.
///
///     <shared>/inputs/<key>/<name>          an input, written whole before its row exists
///     <shared>/outbox[/<task>]/<job>-<name>.json  its result (and transcript sidecars)
///     <shared>/archive/{done,failed}/<key>/ the input once its job ended
///
/// Only plain `rename(2)` over names no other node writes is used, and every
/// file is fsynced before it is renamed into place: NFS has no
/// `renameat2(RENAME_NOREPLACE)` (EINVAL), and a claim is a row lock in
/// PostgreSQL, never a rename. A result's name is its job's id, so a job
/// that ran twice (a lease expired under a slow worker) still leaves one
/// result: the second rename replaces the first, atomically.
struct SharedStorage: Sendable {
    let root: [UInt8]

    var inputs: [UInt8] { Paths.join(root, "inputs") }
    var outbox: [UInt8] { Paths.join(root, "outbox") }
    var done: [UInt8] { Paths.join(root, "archive/done") }
    var failed: [UInt8] { Paths.join(root, "archive/failed") }

    func prepare() throws(SystemError) {
        for directory in [inputs, outbox, done, failed] { try FileOps.makeDirectories(directory) }
        for task in FolderRoute.routedTasks { try FileOps.makeDirectories(TaskFolders.path(task, in: outbox)) }
    }

    /// Removes the temporary results of writers that died before renaming
    /// them (`.quern-job-*.tmp`, older than `olderThan` seconds: a live
    /// writer renames its own within moments). Returns how many.
    @discardableResult
    func sweepTemporaryResults(olderThan seconds: Double) -> Int {
        var removed = 0
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let cutoff = (Int64(now.tv_sec) - Int64(seconds)) * 1_000_000_000
        for directory in [outbox] + FolderRoute.routedTasks.map({ TaskFolders.path($0, in: outbox) }) {
            var stale: [[UInt8]] = []
            try? FileOps.forEachEntry(directory) { name in
                if name.starts(with: Array(".quern-job-".utf8)), name.suffix(4).elementsEqual(".tmp".utf8) {
                    let path = Paths.join(directory, name)
                    if let status = try? FileOps.status(path), status.modifiedNanoseconds < cutoff { stale.append(path) }
                }
                return true
            }
            for path in stale where (try? FileOps.removeFile(path)) != nil { removed += 1 }
        }
        return removed
    }

    /// Where the job's input lies, relative to the shared root (the row's
    /// `input_location`, percent-escaped by `QueueText`).
    static func inputLocation(key: String, name: [UInt8]) -> [UInt8] {
        Array("inputs/\(key)/".utf8) + name
    }

    func path(ofLocation location: [UInt8]) -> [UInt8] { Paths.join(root, location) }

    /// Where a job's input is now: in `inputs/`, or already archived by a
    /// worker whose end of the same job was lost in a server crash (ends
    /// are committed without waiting for the flush).
    func currentInputPath(key: String, name: [UInt8], location: [UInt8]) -> [UInt8] {
        let queued = path(ofLocation: location)
        if FileOps.exists(queued) { return queued }
        for archive in [done, failed] {
            let archived = Paths.join(Paths.join(archive, key), name)
            if FileOps.exists(archived) { return archived }
        }
        return queued
    }

    /// Copies a claimed input into `inputs/<key>/<name>`: written to a hidden
    /// name, fsynced, renamed, the folders synced. Safe to repeat after a crash
    /// (the copy is made again over the hidden name).
    func stage(key: String, name: [UInt8], bytes: [UInt8]) throws(SystemError) {
        let folder = Paths.join(inputs, key)
        try FileOps.makeDirectories(folder)
        let partial = Paths.join(folder, ".partial")
        try FileOps.writeDurably(partial, bytes)
        guard try FileOps.rename(partial, Paths.join(folder, name)) else { throw SystemError("rename", partial, code: 2 /* ENOENT */) }
        try FileOps.syncDirectory(folder)
        try FileOps.syncDirectory(inputs)
    }

    /// The result's name, relative to the shared outbox: `<task>/<job>-<name>.json`.
    static func resultLocation(jobID: Int64, name: [UInt8], folder: TaskName?) -> [UInt8] {
        Claim.relative(ResultNames.candidate(for: Array("\(jobID)-".utf8) + name, index: 0), in: folder)
    }

    /// Writes a result (sidecars first), each to a name only this writer
    /// uses, fsynced, then renamed over the job's result name; returns the
    /// location. Running it twice for one job leaves one result.
    func publish(jobID: Int64, name: [UInt8], folder: TaskName?, writer: String, result: [UInt8],
                 sidecars: [(format: SubtitleFormat, bytes: [UInt8])]) throws(SystemError) -> [UInt8] {
        let location = Self.resultLocation(jobID: jobID, name: name, folder: folder)
        let directory = folder.map { TaskFolders.path($0, in: outbox) } ?? outbox
        let final = Paths.join(outbox, location)
        let resultName = Array(final[(final.lastIndex(of: UInt8(ascii: "/")).map { $0 + 1 } ?? 0)...])
        var staged: [(temporary: [UInt8], final: [UInt8])] = []
        do throws(SystemError) {
            for sidecar in sidecars {
                let temporary = Paths.join(directory, ".quern-job-\(jobID)-\(writer).\(sidecar.format.rawValue).tmp")
                try FileOps.writeDurably(temporary, sidecar.bytes)
                staged.append((temporary, Paths.join(directory, ResultNames.sidecar(ofResult: resultName, format: sidecar.format))))
            }
            let temporary = Paths.join(directory, ".quern-job-\(jobID)-\(writer).tmp")
            try FileOps.writeDurably(temporary, result)
            staged.append((temporary, final))
            for (temporary, target) in staged {
                guard try FileOps.rename(temporary, target) else { throw SystemError("rename", temporary, code: 2 /* ENOENT */) }
            }
        } catch {
            for (temporary, _) in staged { try? FileOps.removeFile(temporary) }
            throw error
        }
        try FileOps.syncDirectory(directory)
        return location
    }

    /// Moves a finished job's input folder into the archive. Not synced: a
    /// lost move leaves the input in `inputs/`, where it harms nothing.
    func archive(key: String, succeeded: Bool) {
        let source = Paths.join(inputs, key)
        _ = try? FileOps.rename(source, Paths.join(succeeded ? done : failed, key))
    }
}

/// Byte strings (file names need not be UTF-8) as the text columns and
/// jsonb of the queue hold them: `%` and every byte of a name that is not
/// valid UTF-8 are written `%XX`, so the round trip is exact.
enum QueueText {
    static func encode(_ bytes: [UInt8]) -> String {
        // Escaping ASCII bytes keeps valid UTF-8 valid; a name that is not
        // valid UTF-8 has all its high bytes escaped, leaving ASCII.
        let valid = String(validating: bytes, as: UTF8.self) != nil
        var out: [UInt8] = []
        for byte in bytes {
            if byte == UInt8(ascii: "%") || byte < 0x20 || byte == 0x7F || (!valid && byte >= 0x80) {
                out += Array(("%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)).utf8)
            } else {
                out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: String) -> [UInt8] {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "%"), index + 2 < bytes.count,
               let value = UInt8(String(decoding: bytes[(index + 1)...(index + 2)], as: UTF8.self), radix: 16) {
                out.append(value)
                index += 3
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return out
    }
}

private extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
