#if canImport(Glibc)
import Glibc
#endif

/// The folders `train` requests may read datasets from, set by the operator
/// (`--train-data-dir`, `QUERN_TRAIN_DATA_DIR`), as real paths. Whoever can
/// drop a file in the inbox can send a request, so a request's paths are
/// resolved — symlinks followed, `.` and `..` removed — and refused with
/// `request.forbidden_path` unless the real path lies inside one of them.
/// None by default: then every `train` request is refused, saying how to
/// allow a folder.
public struct TrainingDataFolders: Sendable, Equatable {
    /// Real paths, in the order given.
    public let folders: [String]

    public init() { folders = [] }

    /// `folders` must already be real paths (see `realPath`).
    public init(realPaths folders: [String]) { self.folders = folders }

    public var isEmpty: Bool { folders.isEmpty }

    /// The request with its paths replaced by their checked real paths.
    public func resolve(_ request: TrainingRequest) throws(QuernError) -> TrainingRequest {
        var resolved = request
        resolved.data = try resolve(request.data, field: "data")
        resolved.test = try request.test.map { path throws(QuernError) in try resolve(path, field: "test") }
        return resolved
    }

    /// The real path of `path` (absolute, or relative to the first folder)
    /// when it exists inside an allowed folder; `field` names the request
    /// field in errors. The trainer checks every file it opens the same way
    /// (`contains`): a dataset's own symlinks must not lead out either.
    public func resolve(_ path: String, field: String) throws(QuernError) -> String {
        guard let first = folders.first else {
            throw QuernError(.requestForbiddenPath, "train requests are refused: no folder is allowed for training data (start quern with --train-data-dir DIR, or set QUERN_TRAIN_DATA_DIR)")
        }
        let absolute = path.hasPrefix("/") ? path : first + "/" + path
        guard let real = Self.realPath(absolute) else {
            let missing = errno == ENOENT || errno == ENOTDIR
            let why = String(cString: strerror(errno))
            guard contains(Self.normalised(absolute)) else { throw forbidden(path, field: field) }
            throw QuernError(.requestInvalidValue, missing ? "field \"\(field)\": \(path) does not exist" : "field \"\(field)\": cannot resolve \(path): \(why)")
        }
        guard contains(real) else { throw forbidden(path, field: field) }
        return real
    }

    /// Whether the real path `path` is one of the folders or inside one.
    public func contains(_ path: String) -> Bool {
        folders.contains { folder in folder == "/" || path == folder || path.hasPrefix(folder + "/") }
    }

    private func forbidden(_ path: String, field: String) -> QuernError {
        QuernError(.requestForbiddenPath, "field \"\(field)\": \(path) is outside the folders allowed for training data (\(folders.joined(separator: ", "))); symbolic links are followed before the check")
    }

    /// `realpath(3)`: the absolute path with every symlink, `.` and `..`
    /// resolved; nil (errno set) when it cannot be resolved.
    public static func realPath(_ path: String) -> String? {
        guard !path.isEmpty, !path.utf8.contains(0) else { return nil }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard realpath(path, &buffer) != nil else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `path` with `.`, `..` and repeated slashes removed, without touching
    /// the file system (for a path that does not exist).
    static func normalised(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch part {
            case ".": continue
            case "..": if !parts.isEmpty { parts.removeLast() }
            default: parts.append(part)
            }
        }
        return "/" + parts.joined(separator: "/")
    }
}
