import Foundation

/// What is known of an installed model without loading it: its name (its
/// folder's name, as `quern models list` prints it and requests use it), its
/// weights file, their size and sha256 (from the manifest written when it
/// was installed, else computed), and the other names requests may use.
public struct InstalledModel: Sendable, Equatable {
    public var name: String
    public var folder: String
    public var manifest: ModelManifest?
    public var weightsPath: String
    public var weightsBytes: Int
    public var weightsSHA256: String
    /// What earlier versions of Quern called it (the weights file's name
    /// without extension, for one-file formats).
    public var aliases: [String]

    public var identity: ModelIdentity { ModelIdentity(name: name, weightsSHA256: weightsSHA256, aliases: aliases) }

    /// `folder` as installed, `declaration` being what it declares (`ModelDeclaration.read`).
    public static func inspect(folder: String, declaration: ModelDeclaration) throws(ModelRegistryError) -> InstalledModel {
        let name = (folder as NSString).lastPathComponent
        let manifest = try ModelManifest.read(folder: folder)
        let weightsPath: String
        let bytes: Int
        let sha: String
        if let manifest, let weights = manifest.weights {
            weightsPath = folder + "/" + weights.path
            bytes = weights.entry.bytes
            sha = weights.entry.sha256
        } else {
            weightsPath = try largestFile(declaration.loadPath == folder ? folder : declaration.loadPath)
            let measured = try ModelManifest.checksum(weightsPath)
            sha = measured.sha256
            bytes = measured.bytes
        }
        var aliases: [String] = []
        if declaration.loadPath != folder {
            let stem = ((declaration.loadPath as NSString).lastPathComponent as NSString).deletingPathExtension
            if stem != name { aliases.append(stem) }
        }
        return InstalledModel(name: name, folder: folder, manifest: manifest, weightsPath: weightsPath, weightsBytes: bytes,
                              weightsSHA256: sha, aliases: aliases)
    }

    /// `path` itself when it is a file, else the largest regular file under it
    /// (hidden ones skipped): the weights, in every layout Quern loads.
    static func largestFile(_ path: String) throws(ModelRegistryError) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ModelRegistryError(.missing, path: path, "\(path) is missing")
        }
        guard isDirectory.boolValue else { return path }
        var best: (path: String, bytes: Int)?
        let walker = FileManager.default.enumerator(atPath: path)
        while let relative = walker?.nextObject() as? String {
            if (relative as NSString).lastPathComponent.hasPrefix(".") {
                walker?.skipDescendants()
                continue
            }
            let candidate = path + "/" + relative
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: candidate),
                  attributes[.type] as? FileAttributeType == .typeRegular,
                  let size = (attributes[.size] as? NSNumber)?.intValue else { continue }
            if size > (best?.bytes ?? -1) { best = (candidate, size) }
        }
        guard let best else { throw ModelRegistryError(.undeclared, path: path, "model folder \(path) holds no file") }
        return best.path
    }
}
