#if canImport(Glibc)
import Glibc
#endif
import Logging
import QuernPipelines

/// The inbox's task folders: a file dropped in `inbox/<task>/` asks for that
/// task (`inbox/embed/notes.txt` is embedded, not chatted about), with the
/// request defaults of the folder's `.quern-defaults.json`. Only the exact
/// names of `FolderRoute.routedTasks` are task folders, and only when they
/// are real directories: anything else by those names (a symlink, a file) is
/// an ordinary inbox entry, and any other subdirectory is an odd entry as
/// before. Their results go to `outbox/<task>/`.
enum TaskFolders {
    static func task(named name: [UInt8]) -> TaskName? {
        FolderRoute.routedTasks.first { Array($0.rawValue.utf8) == name }
    }

    static func path(_ task: TaskName, in root: [UInt8]) -> [UInt8] { Paths.join(root, task.rawValue) }

    /// Creates `inbox/<task>/` and `outbox/<task>/` for every routed task, so
    /// users see where to drop files. An inbox entry already holding such a
    /// name that is not a directory is left alone (it is an input like any
    /// other); the outbox's must be directories, or start-up fails.
    static func prepare(_ layout: DaemonLayout, logger: Logger) throws(SystemError) {
        for task in FolderRoute.routedTasks {
            let folder = path(task, in: layout.inbox)
            if try !FileOps.makeDirectory(folder), try FileOps.status(folder)?.type != .directory {
                logger.warning("an inbox entry has a task folder's name but is not a directory; it is processed as an ordinary entry and the folder is not served", metadata: [
                    "entry": "\(ResultNames.display(folder))",
                ])
            }
            try FileOps.makeDirectories(path(task, in: layout.outbox))
        }
    }

    /// What the folder says about the files in it, read now (so an edited
    /// defaults file applies to the next file, without a restart).
    static func route(_ task: TaskName, inbox: [UInt8]) -> FolderRoute {
        let label = ResultNames.display(Paths.join(inbox, task.rawValue)) + "/"
        switch defaultsFile(of: task, inbox: inbox) {
        case let (_, problem?): return FolderRoute(task: task, label: label, unreadableDefaults: problem)
        case let (bytes, nil): return FolderRoute(task: task, label: label, defaultsFile: bytes)
        }
    }

    /// The folder's defaults file: its bytes (nil when it has none), or why
    /// it cannot be read. (A feeder of the shared queue sends these along.)
    static func defaultsFile(of task: TaskName, inbox: [UInt8]) -> (bytes: [UInt8]?, problem: String?) {
        let file = Paths.join(path(task, in: inbox), FolderRoute.defaultsFileName)
        do {
            switch try FileOps.readFile(file, limit: FolderRoute.defaultsFileLimit) {
            case let .bytes(bytes): return (bytes, nil)
            case let .tooLarge(size): return (nil, "it is \(size) bytes, more than \(FolderRoute.defaultsFileLimit)")
            }
        } catch {
            if error.code == ENOENT { return (nil, nil) }
            if error.code == ELOOP { return (nil, "it is a symbolic link, which is not followed") }
            return (nil, "\(error)")
        }
    }
}
