import QuernJSON

/// What a task folder of the inbox (`inbox/embed/`, `inbox/chat/`, …) says
/// about the files dropped in it: their task, and request defaults read from
/// the folder's `.quern-defaults.json` (a request object without its input),
/// merged under each file's own fields — a file's own fields win.
public struct FolderRoute: Sendable {
    /// The folders Quern routes: every task that takes an input file.
    /// (`train` reads datasets named by a request, not a dropped file.)
    public static let routedTasks: [TaskName] = [.chat, .complete, .embed, .classify, .transcribe]
    public static let defaultsFileName = ".quern-defaults.json"
    /// A defaults file is a few fields; anything larger is a mistake.
    public static let defaultsFileLimit = 1 << 20
    /// The fields that carry a file's content: the file itself supplies them.
    static let contentFields: Set<String> = ["input", "messages", "prompt"]

    public var task: TaskName
    /// How messages name the folder, e.g. `inbox/embed/`.
    public var label: String
    /// The defaults' members, checked against the task when read.
    public var defaults: [(key: String, value: JSONValue)]
    /// Set when the defaults file is broken: every file of the folder gets
    /// this error (a file processed without the defaults its owner wrote
    /// would be a silently different answer).
    public var problem: QuernError?

    /// `defaultsFile`: the bytes of the folder's defaults file, nil when it has none.
    public init(task: TaskName, label: String, defaultsFile: [UInt8]?) {
        self.task = task
        self.label = label
        defaults = []
        guard let defaultsFile else { return }
        do throws(QuernError) {
            defaults = try Self.readDefaults(defaultsFile, task: task, file: label + Self.defaultsFileName)
        } catch {
            problem = error
        }
    }

    /// A route whose defaults are request fields given directly (the HTTP
    /// API's form fields), checked as a defaults file's are; a problem is
    /// reported as the field's own error.
    public init(task: TaskName, label: String, fields: [(key: String, value: JSONValue)]) {
        self.task = task
        self.label = label
        defaults = fields
        do throws(QuernError) {
            _ = try RequestParser.parse(.object(fields + [(key: "task", value: .string(task.rawValue))] + Self.standInContent(for: task)))
        } catch {
            problem = error
        }
    }

    /// A route whose defaults file could not be read at all.
    public init(task: TaskName, label: String, unreadableDefaults reason: String) {
        self.task = task
        self.label = label
        defaults = []
        problem = QuernError(.requestInvalidValue, "the folder defaults \(label)\(Self.defaultsFileName) cannot be read: \(reason)")
    }

    private static func readDefaults(_ bytes: [UInt8], task: TaskName, file: String) throws(QuernError) -> [(key: String, value: JSONValue)] {
        let document: JSONValue
        do {
            document = try JSONParser.parse(bytes)
        } catch {
            throw QuernError(.requestInvalidJSON, "the folder defaults \(file) are not valid JSON: \(error)")
        }
        guard case var .object(members) = document else {
            throw QuernError(.requestNotObject, "the folder defaults \(file) must be a JSON object (request fields without the input), got \(document.typeName)")
        }
        if let content = members.first(where: { contentFields.contains($0.key) }) {
            throw QuernError(.requestFieldNotApplicable, "the folder defaults \(file) must not contain \"\(content.key)\": each dropped file supplies its own input")
        }
        if let taskMember = members.first(where: { $0.key == "task" }) {
            guard case let .string(named) = taskMember.value, named == task.rawValue else {
                throw QuernError(.requestInvalidValue, "the folder defaults \(file) say \"task\": \(String(decoding: JSONWriter.bytes(taskMember.value, style: .compact), as: UTF8.self)), but the folder is for task \"\(task.rawValue)\" (leave \"task\" out)")
            }
            members.removeAll { $0.key == "task" }
        }
        // Check every field now, against a stand-in input, so a typo in the
        // defaults is reported as such and not as a fault of each file.
        let stated: [(key: String, value: JSONValue)] = [(key: "task", value: .string(task.rawValue))]
        do throws(QuernError) {
            _ = try RequestParser.parse(.object(members + stated + standInContent(for: task)))
        } catch {
            throw QuernError(error.code, "in the folder defaults \(file): \(error.message)")
        }
        return members
    }

    /// A stand-in for the content field, used only to check the other fields.
    static func standInContent(for task: TaskName) -> [(key: String, value: JSONValue)] {
        switch task {
        case .chat: return [("messages", .array([.object([("role", .string("user")), ("content", .string("-"))])]))]
        case .complete: return [("prompt", .string("-"))]
        case .embed: return [("input", .string("-"))]
        case .classify, .transcribe: return [("input", .string("AA=="))]
        case .train, .forget: return []
        }
    }

    /// The request a file's own members make in this folder: its fields over
    /// the defaults, with the folder's task. A `task` of its own that names
    /// another task is an error naming both.
    func merged(with members: [(key: String, value: JSONValue)]) throws(QuernError) -> JSONValue {
        if let taskMember = members.first(where: { $0.key == "task" }), case let .string(named) = taskMember.value, named != task.rawValue {
            throw QuernError(.requestInvalidValue, "field \"task\": \"\(named)\" contradicts the folder \(label), which is for task \"\(task.rawValue)\" (leave \"task\" out, or drop the file in the inbox itself or in its own task's folder)")
        }
        var result = members
        if !members.contains(where: { $0.key == "task" }) { result.append(("task", .string(task.rawValue))) }
        for member in defaults where !members.contains(where: { $0.key == member.key }) { result.append(member) }
        return .object(result)
    }
}
