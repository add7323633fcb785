#if canImport(Glibc)
import Glibc
#endif
import Foundation
import QuernJSON
import QuernPipelines
import Synchronization

/// `<inbox>/.quern/status.json` (or `--status-file`): the daemon's status,
/// rewritten from every heartbeat (about once a second) with a rename, so a
/// reader never sees half of it. `quern status` reads it; anything else may
/// too (it is JSON, `format` "quern-status", `format_version` 1).
///
/// Not synced to disk: it describes a running process, and after a power cut
/// its pid is not alive, which `quern status` reports as "not running".
public final class StatusFile: DaemonObserver {
    public static let format = "quern-status"
    public static let formatVersion = 1

    public let path: String
    private let state = Mutex<(lastError: String?, stopping: Bool)>((nil, false))
    private let onError: @Sendable (String) -> Void

    /// `onError` is told (once per distinct message) when the file cannot be written.
    public init(path: String, onError: @escaping @Sendable (String) -> Void = { _ in }) {
        self.path = path
        self.onError = onError
    }

    public func observe(_ event: DaemonEvent) {
        switch event {
        case let .heartbeat(status):
            let stopping = state.withLock { $0.stopping }
            write(status, state: stopping ? "stopping" : "running")
        case .stopping:
            state.withLock { $0.stopping = true }
        default:
            break
        }
    }

    /// At exit: the last status, marked stopped (pid no longer serving).
    public func markStopped(_ status: DaemonStatus) {
        write(status, state: "stopped")
    }

    private func write(_ status: DaemonStatus, state label: String) {
        let bytes = JSONWriter.bytes(Self.json(status, state: label), style: .pretty) + [0x0A]
        do {
            let url = URL(fileURLWithPath: path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(bytes).write(to: url, options: .atomic)
            state.withLock { $0.lastError = nil }
        } catch {
            let message = "cannot write the status file \(path): \(error.localizedDescription)"
            let isNew = state.withLock { current -> Bool in
                defer { current.lastError = message }
                return current.lastError != message
            }
            if isNew { onError(message) }
        }
    }

    // MARK: The document

    public static func json(_ status: DaemonStatus, state: String) -> JSONValue {
        .object([
            ("format", .string(format)), ("format_version", .int(formatVersion)),
            ("state", .string(state)), ("pid", .int(status.pid)), ("version", .string(status.version)),
            ("started_at", .string(timestamp(status.startedAt))), ("updated_at", .string(timestamp(status.takenAt))),
            ("ready", .bool(status.ready)),
            ("models", .array(status.models.map { model in
                .object([("name", .string(model.name)), ("tasks", .array(model.tasks.map { .string($0.rawValue) })),
                         ("loaded", .bool(model.loaded))])
            })),
            ("lanes", .array(status.lanes.map { lane in
                .object([("name", .string(lane.name)), ("queued", .int(lane.queued)), ("running", .int(lane.running)),
                         ("oldest_waiting", lane.oldestWaitingName.map { name in
                             .object([("name", .string(name)), ("waiting_s", .double(lane.oldestWaitingSeconds ?? 0))])
                         } ?? .null)])
            })),
            ("running_jobs", .array(status.running.map { running in
                var members: [(key: String, value: JSONValue)] = [
                    ("name", .string(running.job.name)), ("claim_id", .string(running.job.claimID)), ("kind", .string(running.job.kind.rawValue)),
                    ("task", .optional(running.job.task?.rawValue)), ("model", .optional(running.job.model)), ("lane", .string(running.job.lane)),
                    ("elapsed_s", .double(running.elapsedSeconds)),
                ]
                members.append(("progress", running.progress.map(progressJSON) ?? .null))
                return .object(members)
            })),
            ("files_done", .int(status.filesDone)), ("files_failed", .int(status.filesFailed)),
            ("resident_bytes", .int(status.residentBytes)),
        ])
    }

    static func progressJSON(_ progress: JobProgress) -> JSONValue {
        var members: [(key: String, value: JSONValue)]
        switch progress {
        case let .tokens(generated, perSecond, limit):
            members = [("unit", .string("tokens")), ("done", .int(generated)), ("total", .int(limit)), ("tokens_per_second", .double(perSecond))]
        case let .audio(done, total):
            members = [("unit", .string("audio_seconds")), ("done", .double(done)), ("total", .double(total))]
        case let .steps(done, total, unit):
            members = [("unit", .string(unit)), ("done", .int(done)), ("total", .int(total))]
        }
        members.append(("summary", .string(progress.summary)))
        members.append(("fraction", progress.fraction.map(JSONValue.double) ?? .null))
        return .object(members)
    }

    static func timestamp(_ seconds: Double) -> String {
        var formatter = Date.ISO8601FormatStyle(includingFractionalSeconds: false)
        formatter.timeZone = TimeZone(identifier: "UTC") ?? formatter.timeZone
        return Date(timeIntervalSince1970: seconds).formatted(formatter)
    }
}

/// What `quern status` makes of a status file.
public struct StatusReport: Sendable {
    public enum Failure: Error, CustomStringConvertible {
        case missing(String)
        case unreadable(String)

        public var description: String {
            switch self {
            case let .missing(message), let .unreadable(message): return message
            }
        }
    }

    /// The file's document, with `running` (a bool) added: whether its pid is alive and it is not stopped.
    public var document: JSONValue
    public var isRunning: Bool

    /// Reads `path`; a file whose pid is not alive (or that says stopped) is "not running".
    public static func read(path: String) throws(Failure) -> StatusReport {
        guard let data = FileManager.default.contents(atPath: path) else {
            if FileManager.default.fileExists(atPath: path) { throw .unreadable("cannot read the status file \(path) (permissions?)") }
            throw .missing("no status file at \(path): quern serve is not running on this inbox, or writes it elsewhere (--status-file)")
        }
        let document: JSONValue
        do {
            document = try JSONParser.parse(Array(data))
        } catch {
            throw .unreadable("the status file \(path) is not valid JSON: \(error)")
        }
        guard document["format"]?.stringValue == StatusFile.format else {
            throw .unreadable("\(path) is not a quern status file (no \"format\": \"\(StatusFile.format)\")")
        }
        let pid = document["pid"]?.intValue ?? 0
        let alive = pid > 0 && (kill(pid_t(pid), 0) == 0 || errno == EPERM)
        let running = alive && document["state"]?.stringValue != "stopped"
        guard case var .object(members) = document else { throw .unreadable("\(path) does not hold a JSON object") }
        members.append(("running", .bool(running)))
        return StatusReport(document: .object(members), isRunning: running)
    }

    /// The report for people: one fact a line.
    public var text: String {
        let d = document
        var lines: [String] = []
        let pid = d["pid"]?.intValue.map(String.init) ?? "?"
        guard isRunning else {
            lines.append("quern: not running (the status file is from pid \(pid), last updated \(d["updated_at"]?.stringValue ?? "?"), state \(d["state"]?.stringValue ?? "?"))")
            return lines.joined(separator: "\n") + "\n"
        }
        lines.append("quern \(d["version"]?.stringValue ?? "?"): \(d["state"]?.stringValue ?? "running"), pid \(pid), up since \(d["started_at"]?.stringValue ?? "?")\(d["ready"]?.boolValue == false ? " (starting)" : "")")
        lines.append("updated: \(d["updated_at"]?.stringValue ?? "?")")
        let models = d["models"]?.arrayValue ?? []
        lines.append("models:" + (models.isEmpty ? " none" : ""))
        for model in models {
            let tasks = (model["tasks"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", ")
            lines.append("  \(model["name"]?.stringValue ?? "?") (\(tasks)): \(model["loaded"]?.boolValue == true ? "loaded" : "not loaded")")
        }
        let running = d["running_jobs"]?.arrayValue ?? []
        lines.append("running:" + (running.isEmpty ? " nothing" : ""))
        for job in running {
            let elapsed = job["elapsed_s"]?.doubleValue.map { String(format: "%.1f s", $0) } ?? "?"
            let progress = job["progress"]?["summary"]?.stringValue.map { ", " + $0 } ?? ""
            lines.append("  \(job["name"]?.stringValue ?? "?") [\(job["task"]?.stringValue ?? "-") on \(job["lane"]?.stringValue ?? "?")] \(elapsed)\(progress)")
        }
        lines.append("queues:")
        for lane in d["lanes"]?.arrayValue ?? [] {
            var line = "  \(lane["name"]?.stringValue ?? "?"): \(lane["queued"]?.intValue ?? 0) waiting, \(lane["running"]?.intValue ?? 0) running"
            if let oldest = lane["oldest_waiting"], !oldest.isNull {
                line += "; oldest \(oldest["name"]?.stringValue ?? "?") (\(String(format: "%.1f", oldest["waiting_s"]?.doubleValue ?? 0)) s)"
            }
            lines.append(line)
        }
        lines.append("files: \(d["files_done"]?.intValue ?? 0) done, \(d["files_failed"]?.intValue ?? 0) failed since start")
        if let bytes = d["resident_bytes"]?.intValue { lines.append("memory: \(bytes / (1 << 20)) MiB resident") }
        return lines.joined(separator: "\n") + "\n"
    }
}
