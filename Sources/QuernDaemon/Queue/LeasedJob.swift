import QuernJSON
import QuernPipelines
import QuernQueue
import Synchronization

/// What a feeder records about an input beside its location (the row's
/// `parameters`): its name, the task folder it was dropped in with that
/// folder's defaults file as it was then, or why it was refused before it
/// could be copied (too large, not a regular file).
struct QueuedInput: Sendable, Equatable {
    var name: [UInt8]
    var folder: TaskName?
    var defaultsFile: [UInt8]?
    /// Why the folder's defaults file could not be read at feeding (too
    /// large, a symlink): every file of the folder gets that error, as in
    /// the inbox-only mode.
    var defaultsProblem: String?
    var refusal: QuernError?
    var size: Int?

    /// One path component that names a file: not empty, not `.` or `..`,
    /// no `/` or NUL, at most 255 bytes.
    static func isPlainFileName(_ name: [UInt8]) -> Bool {
        !name.isEmpty && name.count <= 255 && name != [0x2E] && name != [0x2E, 0x2E] && !name.contains(0x2F) && !name.contains(0)
    }

    var json: JSONValue {
        var members: [(key: String, value: JSONValue)] = [("name", .string(QueueText.encode(name)))]
        if let folder { members.append(("folder", .string(folder.rawValue))) }
        if let defaultsFile { members.append(("defaults_file", .string(QueueText.encode(defaultsFile)))) }
        if let defaultsProblem { members.append(("defaults_problem", .string(defaultsProblem))) }
        if let refusal {
            members.append(("refused", .object([("code", .string(refusal.code.rawValue)), ("message", .string(refusal.message))])))
        }
        if let size { members.append(("size", .int(size))) }
        return .object(members)
    }

    init(name: [UInt8], folder: TaskName?, defaultsFile: [UInt8]?, defaultsProblem: String? = nil, refusal: QuernError? = nil, size: Int? = nil) {
        self.name = name
        self.folder = folder
        self.defaultsFile = defaultsFile
        self.defaultsProblem = defaultsProblem
        self.refusal = refusal
        self.size = size
    }

    /// nil when the row's parameters are not a feeder's (a damaged row), or
    /// name no plain file: a row never makes a worker touch a path outside
    /// the shared folder.
    init?(parameters: String) {
        guard let value = try? JSONParser.parse(Array(parameters.utf8)), let name = value["name"]?.stringValue,
              Self.isPlainFileName(QueueText.decode(name)) else { return nil }
        self.name = QueueText.decode(name)
        folder = value["folder"]?.stringValue.flatMap(TaskName.init(rawValue:)).flatMap { FolderRoute.routedTasks.contains($0) ? $0 : nil }
        defaultsFile = value["defaults_file"]?.stringValue.map(QueueText.decode)
        defaultsProblem = value["defaults_problem"]?.stringValue
        if let refused = value["refused"], let code = refused["code"]?.stringValue.flatMap(ErrorCode.init(rawValue:)) {
            refusal = QuernError(code, refused["message"]?.stringValue ?? code.rawValue)
        }
        size = value["size"]?.intValue
    }
}

/// A job this worker holds a lease on: its row, where its input lies, and
/// whether the lease was lost (reaped after an expiry, or cancelled with
/// `quern queue cancel`) — then it is stopped and its result dropped.
final class LeasedJob: Sendable {
    let row: QueuedJob
    let input: QueuedInput
    /// The key its input folder is named by (`inputs/<key>/`).
    let key: String
    let inputPath: [UInt8]
    /// Set when the row's input location is not `inputs/<key>/<name>` with
    /// plain components: the job gets this error and no file is touched.
    let problem: QuernError?
    private let lost = Atomic<Bool>(false)
    private let ended = Atomic<Bool>(false)

    init(row: QueuedJob, input: QueuedInput, storage: SharedStorage) {
        self.row = row
        self.input = input
        let location = QueueText.decode(row.inputLocation)
        // inputs/<key>/<name>
        let parts = location.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).map(Array.init)
        if parts.count == 3, parts[0] == Array("inputs".utf8), QueuedInput.isPlainFileName(parts[1]), parts[2] == input.name,
           let key = String(validating: parts[1], as: UTF8.self) {
            self.key = key
            inputPath = storage.currentInputPath(key: key, name: input.name, location: location)
            problem = nil
        } else {
            key = "job-\(row.id)"
            inputPath = storage.path(ofLocation: Array("inputs/\(key)/missing".utf8))
            problem = QuernError(.internalError, "the queue row's input location \"\(row.inputLocation.prefix(200))\" is not inputs/<key>/<name> of its input; nothing was read")
        }
    }

    /// Stands where a claim id stands (reservations, status, logs, `claim_id`).
    var id: String { "job-\(row.id)" }

    func markLost() { lost.store(true, ordering: .releasing) }
    var isLost: Bool { lost.load(ordering: .acquiring) }

    /// Its end was handed to the finisher: a renewal that no longer finds it
    /// running saw the end recorded, not a lost lease.
    func markEnded() { ended.store(true, ordering: .releasing) }
    var hasEnded: Bool { ended.load(ordering: .acquiring) }

    /// The folder's route, from the defaults file recorded at feeding.
    var route: FolderRoute? {
        guard let folder = input.folder else { return nil }
        let label = "inbox/\(folder.rawValue)/"
        if let problem = input.defaultsProblem { return FolderRoute(task: folder, label: label, unreadableDefaults: problem) }
        return FolderRoute(task: folder, label: label, defaultsFile: input.defaultsFile)
    }
}

extension SharedStorage {
    /// Copies an input into `inputs/<key>/` and describes its job, for the
    /// feeder and the HTTP door alike. `bytes` nil: the input was refused
    /// before it could be read (its `refusal` says why); nothing is copied.
    func stageJob(key: String, input: QueuedInput, bytes: [UInt8]?, maxAttempts: Int) throws(SystemError) -> NewJob {
        if let bytes { try stage(key: key, name: input.name, bytes: bytes) }
        return NewJob(
            key: key, inputLocation: QueueText.encode(Self.inputLocation(key: key, name: input.name)), inputSHA256: bytes.map(SHA256Hex.of),
            kind: bytes.map { QueueKind.of(prefix: Array($0.prefix(16)), folder: input.folder) } ?? "unknown", task: input.folder?.rawValue,
            parameters: JSONWriter.string(input.json, style: .compact), maxAttempts: maxAttempts)
    }
}

/// The kind a feeder records, and the kinds a worker claims: a worker only
/// takes the jobs a model it serves can run.
enum QueueKind {
    static func of(prefix: [UInt8], folder: TaskName?) -> String {
        switch folder {
        case .classify?: return "image"
        case .transcribe?: return "audio"
        case .chat?, .complete?, .embed?: return "text"
        default: break
        }
        func starts(_ magic: [UInt8]) -> Bool { prefix.count >= magic.count && Array(prefix.prefix(magic.count)) == magic }
        if starts([0x89, 0x50, 0x4E, 0x47]) || starts([0xFF, 0xD8, 0xFF]) { return "image" }
        if starts(Array("RIFF".utf8)) || starts(Array("fLaC".utf8)) || starts(Array("OggS".utf8)) || starts(Array("FORM".utf8)) { return "audio" }
        return "text"
    }

    /// Refused inputs (`unknown`) are taken by any worker: they need no model.
    static func served(by tasks: [TaskName]) -> [String] {
        var kinds = ["unknown"]
        if tasks.contains(.classify) { kinds.append("image") }
        if tasks.contains(.transcribe) { kinds.append("audio") }
        if tasks.contains(where: { [.chat, .complete, .embed, .train, .forget].contains($0) }) { kinds.append("text") }
        return kinds
    }
}
