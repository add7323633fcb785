#if canImport(Glibc)
import Glibc
#endif
import QuernFormats
import QuernJSON
import QuernModels
import Synchronization

/// The messages of each conversation, one JSON file per conversation in a
/// state folder (`<inbox>/.quern/conversations/<id>.json` for `quern serve`).
///
/// - Crash-safe: a file is only ever replaced whole (`AtomicFile`: written to
///   a hidden temporary name, fsynced, renamed, the folder fsynced), so after
///   a kill or a power cut it holds the conversation before or after a turn.
/// - Bounded: at most `maximumMessages` messages and `maximumBytes` of
///   message text are kept; beyond that the oldest turns go first (a leading
///   system message stays). The prompt fitting drops further turns when
///   what is kept does not fit the model's context.
/// - Safe names: ids are checked by `ConversationID` before they become
///   file names, and a symlink in the folder is refused, never followed.
///
/// One process writes a folder (the daemon holds its inbox's lock); within
/// it the daemon runs turns of one conversation one after another.
public final class ConversationStore: Sendable {
    public static let defaultMaximumMessages = 1000
    public static let defaultMaximumBytes = 1 << 20

    public let directory: String
    public let maximumMessages: Int
    public let maximumBytes: Int
    /// Serialises reads and writes of the folder within this process.
    private let lock = Mutex(())

    /// What a stored conversation looks like after a turn was appended.
    public struct Appended: Sendable, Equatable {
        /// Messages now stored.
        public var messages: Int
        /// Old messages dropped to stay within the bounds.
        public var dropped: Int
    }

    /// Opens (creating it when missing) the folder `directory`.
    public init(directory: String, maximumMessages: Int = defaultMaximumMessages, maximumBytes: Int = defaultMaximumBytes) throws(QuernError) {
        self.directory = directory
        self.maximumMessages = max(2, maximumMessages)
        self.maximumBytes = max(1, maximumBytes)
        try Self.makeFolder(directory)
    }

    /// The file of conversation `id` (already validated).
    public func path(of id: String) -> String { directory + "/" + id + ".json" }

    /// The stored messages of `id`, oldest first; none for a conversation
    /// never seen (or forgotten). Without the newest turn when it was stored
    /// under `excludingTurn` (the same input, run again after a crash).
    public func messages(of id: String, excludingTurn key: String? = nil) throws(QuernError) -> [ChatMessage] {
        try lock.withLock { _ throws(QuernError) in try read(id).without(turn: key) }
    }

    /// Appends one turn — the request's new messages and the model's reply —
    /// and writes the file again, dropping the oldest turns beyond the bounds.
    /// A turn with the `key` of the newest stored turn replaces it: the input
    /// that stored it ran again (a crash came between storing the turn and
    /// publishing its result), and must not be in the conversation twice.
    @discardableResult
    public func append(_ turn: [ChatMessage], to id: String, key: String? = nil) throws(QuernError) -> Appended {
        try lock.withLock { _ throws(QuernError) -> Appended in
            let (kept, dropped) = bounded(try read(id).without(turn: key) + turn)
            try write(kept, id: id, lastTurn: key.map { LastTurn(key: $0, messages: min(turn.count, kept.count)) })
            return Appended(messages: kept.count, dropped: dropped)
        }
    }

    /// Deletes conversation `id`; the number of messages it held, or nil
    /// when there was none.
    public func forget(_ id: String) throws(QuernError) -> Int? {
        try lock.withLock { _ throws(QuernError) -> Int? in
            let file = path(of: id)
            guard try isPresent(file) else { return nil }
            // Counted for the result; a file that cannot be read is still deleted.
            let count = (try? read(id))?.messages.count ?? 0
            guard unlink(file) == 0 || errno == ENOENT else {
                throw QuernError(.pipelineFailed, "cannot delete the conversation file \(file): \(String(cString: strerror(errno)))")
            }
            do throws(FormatError) {
                try AtomicFile.syncDirectory(directory)
            } catch {
                throw QuernError(.pipelineFailed, "deleted \(file), but cannot make that durable: \(error.message)")
            }
            return count
        }
    }

    /// The newest messages within both bounds; a leading system message is
    /// kept, and turns are dropped whole from the oldest (a user message and
    /// what follows it up to the next user message).
    func bounded(_ messages: [ChatMessage]) -> (kept: [ChatMessage], dropped: Int) {
        let pinned = messages.first?.role == "system" ? 1 : 0
        var start = pinned
        var bytes = messages.reduce(0) { $0 + $1.content.utf8.count + $1.role.utf8.count }
        func fits() -> Bool { messages.count - start + pinned <= maximumMessages && bytes <= maximumBytes }
        while !fits() && start < messages.count - 1 {
            // Drop one message, then the rest of its turn.
            repeat {
                bytes -= messages[start].content.utf8.count + messages[start].role.utf8.count
                start += 1
            } while start < messages.count - 1 && messages[start].role != "user"
        }
        return (Array(messages[..<pinned]) + messages[start...], start - pinned)
    }

    // MARK: The files

    static let format = "quern-conversation"
    static let formatVersion = 1
    /// Far above what the bounds let a file reach.
    private var fileLimit: Int { 4 * maximumBytes + 64 * maximumMessages + 4096 }

    /// The newest stored turn: the input that stored it, and its messages.
    struct LastTurn {
        var key: String
        var messages: Int
    }

    /// A conversation as read from its file.
    struct Stored {
        var messages: [ChatMessage]
        var lastTurn: LastTurn?

        /// The messages, less the newest turn when it was stored under `key`.
        func without(turn key: String?) -> [ChatMessage] {
            guard let key, let lastTurn, lastTurn.key == key else { return messages }
            return Array(messages.dropLast(lastTurn.messages))
        }
    }

    private func read(_ id: String) throws(QuernError) -> Stored {
        let file = path(of: id)
        guard try isPresent(file) else { return Stored(messages: []) }
        let bytes: [UInt8]
        do throws(FormatError) {
            guard let read = try RegularFile.readIfPresent(file, limit: fileLimit) else { return Stored(messages: []) }
            bytes = read
        } catch {
            throw unreadable(file, error.message)
        }
        let document: JSONValue
        do {
            document = try JSONParser.parse(bytes)
        } catch {
            throw unreadable(file, "it is not valid JSON: \(error)")
        }
        guard let members = document.objectValue, members.first(where: { $0.key == "format" })?.value.stringValue == Self.format else {
            throw unreadable(file, "it is not a \(Self.format) file")
        }
        guard case let .array(elements)? = members.first(where: { $0.key == "messages" })?.value else {
            throw unreadable(file, "it has no \"messages\" list")
        }
        var messages: [ChatMessage] = []
        for element in elements {
            guard let message = element.objectValue,
                  let role = message.first(where: { $0.key == "role" })?.value.stringValue,
                  let content = message.first(where: { $0.key == "content" })?.value.stringValue else {
                throw unreadable(file, "a message is not a {\"role\", \"content\"} object")
            }
            messages.append(ChatMessage(role: role, content: content))
        }
        var lastTurn: LastTurn?
        if let turn = members.first(where: { $0.key == "last_turn" })?.value.objectValue,
           let key = turn.first(where: { $0.key == "key" })?.value.stringValue,
           case let .number(count)? = turn.first(where: { $0.key == "messages" })?.value, let messageCount = Int(count),
           (0...messages.count).contains(messageCount) {
            lastTurn = LastTurn(key: key, messages: messageCount)
        }
        return Stored(messages: messages, lastTurn: lastTurn)
    }

    private func write(_ messages: [ChatMessage], id: String, lastTurn: LastTurn?) throws(QuernError) {
        var members: [(key: String, value: JSONValue)] = [
            ("format", .string(Self.format)), ("format_version", .int(Self.formatVersion)), ("id", .string(id)),
            ("messages", .array(messages.map { .object([("role", .string($0.role)), ("content", .string($0.content))]) })),
        ]
        if let lastTurn { members.append(("last_turn", .object([("key", .string(lastTurn.key)), ("messages", .int(lastTurn.messages))]))) }
        let document = JSONValue.object(members)
        do throws(FormatError) {
            try AtomicFile.write(JSONWriter.bytes(document, style: .compact), to: path(of: id))
        } catch {
            throw QuernError(.pipelineFailed, "cannot save conversation \"\(id)\": \(error.message)")
        }
    }

    /// Whether `file` exists; a symlink (or anything but a regular file) is
    /// an error, never followed.
    private func isPresent(_ file: String) throws(QuernError) -> Bool {
        var info = stat()
        guard lstat(file, &info) == 0 else {
            if errno == ENOENT { return false }
            throw unreadable(file, String(cString: strerror(errno)))
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw unreadable(file, "it is not a regular file (a symlink, folder or device); remove it")
        }
        return true
    }

    private func unreadable(_ file: String, _ reason: String) -> QuernError {
        QuernError(.pipelineFailed, "cannot read the conversation file \(file): \(reason) (delete it, or send {\"task\": \"forget\"} for it, to start the conversation afresh)")
    }

    private static func makeFolder(_ path: String) throws(QuernError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o700) != 0 && errno != EEXIST {
                throw QuernError(.pipelineFailed, "cannot create the conversations folder \(prefix): \(String(cString: strerror(errno)))")
            }
        }
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw QuernError(.pipelineFailed, "the conversations folder \(path) is not a folder")
        }
    }
}
