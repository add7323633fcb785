/// Why a model file or folder cannot serve a task. The message names the
/// path; `code` is stable for scripts and tests.
public struct ModelRegistryError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// No such file or folder.
        case missing = "model.missing"
        /// Nothing in the folder says what model it is.
        case undeclared = "model.undeclared"
        /// Two candidate model files where one is needed.
        case ambiguous = "model.ambiguous"
        /// The file that declares the type cannot be read (not a regular
        /// file, corrupt header, invalid JSON).
        case unreadable = "model.unreadable"
        /// It declares a type no registered architecture loads.
        case unknownType = "model.unknown_type"
        /// Its architecture does not serve the task it was asked for.
        case wrongTask = "model.wrong_task"
        /// No model is registered for the task.
        case unassigned = "model.unassigned"
    }

    public let kind: Kind
    /// The file or folder concerned.
    public let path: String
    public let message: String

    public init(_ kind: Kind, path: String, _ message: String) {
        self.kind = kind
        self.path = path
        self.message = message
    }

    public var code: String { kind.rawValue }
    public var description: String { message }
}
