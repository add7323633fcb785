import Crypto
import Foundation

/// The sha256 and size of every file of an installed model, written when it
/// is installed (`.quern-files.json` in the model's folder, by `quern models
/// fetch`/`install` and scripts/fetch-models.sh), so `quern models verify`
/// and start-up can tell a damaged file from a good one, and a model's
/// identity (its weights' sha256) is known without loading it.
public struct ModelManifest: Sendable, Equatable {
    public struct FileEntry: Sendable, Equatable {
        public var bytes: Int
        public var sha256: String

        public init(bytes: Int, sha256: String) {
            self.bytes = bytes
            self.sha256 = sha256
        }
    }

    public static let fileName = ".quern-files.json"
    /// Who installed the model and from what (`{"name", "requirement", "wheel_sha256"}`).
    public static let originFileName = ".quern-model.json"

    /// Path relative to the model folder → entry.
    public var files: [String: FileEntry]

    public init(files: [String: FileEntry]) { self.files = files }

    /// The largest file: the weights, for every model layout Quern loads
    /// (a GGUF, an ONNX graph, model.safetensors, a CTranslate2 model.bin).
    public var weights: (path: String, entry: FileEntry)? {
        files.max { ($0.value.bytes, $1.key) < ($1.value.bytes, $0.key) }.map { ($0.key, $0.value) }
    }

    public var totalBytes: Int { files.values.reduce(0) { $0 + $1.bytes } }

    /// The manifest of `folder`, nil when it has none.
    public static func read(folder: String) throws(ModelRegistryError) -> ModelManifest? {
        let path = folder + "/" + fileName
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ModelRegistryError(.unreadable, path: path, "the manifest \(path) is not a JSON object; reinstall the model (quern models fetch, or quern models install)")
        }
        var files: [String: FileEntry] = [:]
        for (name, value) in object {
            guard let fields = value as? [String: Any], let bytes = fields["bytes"] as? Int, let sha = fields["sha256"] as? String,
                  !name.hasPrefix("/"), !name.split(separator: "/").contains("..") else {
                throw ModelRegistryError(.unreadable, path: path, "the manifest \(path) has a bad entry for \"\(name)\"; reinstall the model")
            }
            files[name] = FileEntry(bytes: bytes, sha256: sha.lowercased())
        }
        return ModelManifest(files: files)
    }

    /// Lists every regular file under `folder` (hidden files excluded) with its sha256.
    public static func measure(folder: String) throws(ModelRegistryError) -> ModelManifest {
        var files: [String: FileEntry] = [:]
        guard let walker = FileManager.default.enumerator(atPath: folder) else {
            throw ModelRegistryError(.unreadable, path: folder, "cannot list \(folder)")
        }
        while let relative = walker.nextObject() as? String {
            let base = (relative as NSString).lastPathComponent
            if base.hasPrefix(".") {
                walker.skipDescendants()
                continue
            }
            let path = folder + "/" + relative
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            let (sha, bytes) = try checksum(path)
            files[relative] = FileEntry(bytes: bytes, sha256: sha)
        }
        return ModelManifest(files: files)
    }

    public func write(folder: String) throws(ModelRegistryError) {
        var object: [String: Any] = [:]
        for (name, entry) in files { object[name] = ["bytes": entry.bytes, "sha256": entry.sha256] }
        let path = folder + "/" + Self.fileName
        do {
            let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw ModelRegistryError(.unreadable, path: path, "cannot write \(path): \(error.localizedDescription)")
        }
    }

    /// A file of the model that does not match its manifest.
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        public enum Kind: String, Sendable { case missing, wrongSize = "wrong size", wrongChecksum = "wrong sha256", unreadable }
        public var path: String
        public var kind: Kind

        public var description: String { "\(path): \(kind.rawValue)" }
    }

    /// Checks every listed file of `folder`: present, the listed size, the
    /// listed sha256 (the size first, so a truncated file is named without
    /// reading it all).
    public func problems(folder: String, checksums: Bool = true) -> [Problem] {
        var found: [Problem] = []
        for name in files.keys.sorted() {
            guard let entry = files[name] else { continue }
            let path = folder + "/" + name
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
                  attributes[.type] as? FileAttributeType == .typeRegular else {
                found.append(Problem(path: path, kind: .missing))
                continue
            }
            guard (attributes[.size] as? NSNumber)?.intValue == entry.bytes else {
                found.append(Problem(path: path, kind: .wrongSize))
                continue
            }
            guard checksums else { continue }
            switch Result(catching: { () throws(ModelRegistryError) in try Self.checksum(path) }) {
            case let .success((sha, _)) where sha == entry.sha256: continue
            case .success: found.append(Problem(path: path, kind: .wrongChecksum))
            case .failure: found.append(Problem(path: path, kind: .unreadable))
            }
        }
        return found
    }

    static func checksum(_ path: String) throws(ModelRegistryError) -> (sha256: String, bytes: Int) {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ModelRegistryError(.unreadable, path: path, "cannot read \(path)")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        var bytes = 0
        while true {
            let chunk: Data?
            do { chunk = try handle.read(upToCount: 1 << 22) } catch {
                throw ModelRegistryError(.unreadable, path: path, "cannot read \(path): \(error.localizedDescription)")
            }
            guard let chunk, !chunk.isEmpty else { break }
            bytes += chunk.count
            hasher.update(data: chunk)
        }
        return (SHA256Hex.finalize(hasher), bytes)
    }
}
