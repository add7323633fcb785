import QuernPipelines

/// An input taken out of the inbox: it now lives at `work/<id>/<name>`.
///
/// The claim directory also holds the markers recovery reads after a crash
/// (names start with `.`, which no input name can):
/// - `.written-ok` / `.written-error`: the result is complete and synced in
///   `outbox/.quern-<id>.tmp`; from here on the input never runs again;
/// - `.running`: the input is being inspected or is inside a model right now
///   (removed when that stage lets go of it). Only an input that carries it
///   when the process dies is charged an attempt: the ones merely waiting in
///   a queue did nothing that could have killed the process;
/// - `.attempt-N`: recovery restarted this input N times after a crash;
/// - `.handed-back`: a graceful shutdown stopped before finishing it;
/// - `.folder-<task>`: the input came from the task folder `inbox/<task>/`
///   (made before the input is moved in, so it is there whenever the input is).
/// - `.cancel`: `quern cancel` asked for the job to stop (the lane writes a
///   `cancelled` result within a second; deleting the input does the same).
struct Claim: Sendable, Equatable {
    var id: String
    var name: [UInt8]
    var directory: [UInt8]
    /// The inbox task folder it was dropped in; nil for the inbox itself.
    var folder: TaskName? = nil

    var inputPath: [UInt8] { Paths.join(directory, name) }

    func marker(_ name: String) -> [UInt8] { Paths.join(directory, name) }

    static func writtenMarker(succeeded: Bool) -> String { succeeded ? ".written-ok" : ".written-error" }
    static let handedBackMarker = ".handed-back"
    static let runningMarker = ".running"
    static let cancelMarker = ".cancel"
    static let attemptPrefix = ".attempt-"
    static let folderPrefix = ".folder-"

    static func folderMarker(_ task: TaskName) -> String { folderPrefix + task.rawValue }

    /// The folder a `.folder-<task>` marker names (nil for any other marker).
    static func folder(fromMarker marker: String) -> TaskName? {
        guard marker.hasPrefix(folderPrefix) else { return nil }
        return TaskName(rawValue: String(marker.dropFirst(folderPrefix.count))).flatMap { FolderRoute.routedTasks.contains($0) ? $0 : nil }
    }

    /// Where the input lies relative to the inbox and its result relative to
    /// the outbox: `name`, or `<task>/name` for a task folder.
    static func relative(_ name: [UInt8], in folder: TaskName?) -> [UInt8] {
        guard let folder else { return name }
        return Array(folder.rawValue.utf8) + [UInt8(ascii: "/")] + name
    }
}
