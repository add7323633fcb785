import Foundation

/// The start-up check of `--models`: `quern serve` must not come up serving
/// no tasks, or serve a model whose files were damaged since they were
/// installed. Each failure names the folder or file and the fix.
public enum ModelsFolderCheck {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    /// How much of a model's files is checked.
    public enum Depth: Sendable {
        /// Every listed file present with its listed size.
        case sizes
        /// And its sha256 (reads every file: about a second for the default models).
        case checksums
    }

    public static let fix = "run `quern models fetch` (or scripts/fetch-models.sh) to install the default models, or point --models (QUERN_MODELS) at the folder that holds them"

    /// `requireAny`: a folder holding none of the default models is an
    /// error too (`serve`); `quern run` answers its files `unsupported` instead.
    /// Returns the default models that are missing (their tasks are unavailable).
    @discardableResult
    public static func run(modelsDirectory: String, depth: Depth, requireAny: Bool) throws(Failure) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: modelsDirectory, isDirectory: &isDirectory) else {
            throw Failure(message: "the models folder \(modelsDirectory) does not exist; \(fix)")
        }
        guard isDirectory.boolValue else {
            throw Failure(message: "the models folder \(modelsDirectory) is not a folder; \(fix)")
        }
        guard (try? FileManager.default.contentsOfDirectory(atPath: modelsDirectory)) != nil else {
            throw Failure(message: "the models folder \(modelsDirectory) cannot be read (permissions?); let the user quern runs as read it, or \(fix)")
        }
        let names = Array(Set(ModelRegistry.defaultModels.values)).sorted()
        var missing: [String] = []
        for name in names {
            let folder = modelsDirectory + "/" + name
            guard FileManager.default.fileExists(atPath: folder) else {
                missing.append(name)
                continue
            }
            let manifest: ModelManifest?
            do throws(ModelRegistryError) { manifest = try ModelManifest.read(folder: folder) } catch { throw Failure(message: error.message) }
            guard let manifest else { continue }
            let problems = manifest.problems(folder: folder, checksums: depth == .checksums)
            if let first = problems.first {
                let more = problems.count > 1 ? " (and \(problems.count - 1) more: \(problems.dropFirst().map(\.description).joined(separator: "; ")))" : ""
                throw Failure(message: "model \(name) is damaged: \(first.path) has the \(first.kind.rawValue) for its manifest \(folder)/\(ModelManifest.fileName)\(more); run `quern models fetch \(name)` to reinstall it (`quern models verify` checks every model)")
            }
        }
        if requireAny, missing.count == names.count {
            throw Failure(message: "the models folder \(modelsDirectory) holds none of the default models (\(names.joined(separator: ", "))); \(fix)")
        }
        return missing
    }
}
