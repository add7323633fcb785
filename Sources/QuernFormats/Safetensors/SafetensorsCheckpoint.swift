import Foundation
import QuernJSON
import QuernTensor

/// A Hugging Face safetensors checkpoint: one `model.safetensors`, or shards
/// listed by `model.safetensors.index.json` (`{"metadata": {…}, "weight_map":
/// {tensor name: shard file name}}`).
///
/// The index is checked like the files: shard names must be plain file names
/// in the same folder (no `/`, no `..`), every listed tensor must be in the
/// shard the index names, and no tensor may appear in two shards or in a
/// shard without being listed.
public struct SafetensorsCheckpoint: Sendable {
    public static let singleFileName = "model.safetensors"
    public static let indexFileName = "model.safetensors.index.json"

    /// The files read, in the order they were opened.
    public let files: [SafetensorsFile]
    /// Every tensor of every file.
    public let tensors: [StoredTensor]

    /// The path a binder should report errors against: the single file or the index.
    public let path: String

    /// Opens the checkpoint in `directory`: `model.safetensors` when present,
    /// else the sharded index.
    public init(directory: String) throws(FormatError) {
        let single = directory + "/" + Self.singleFileName
        let index = directory + "/" + Self.indexFileName
        if FileManager.default.fileExists(atPath: single) {
            let file = try SafetensorsFile(path: single)
            self.init(files: [file], tensors: file.tensors, path: single)
        } else if FileManager.default.fileExists(atPath: index) {
            try self.init(index: index)
        } else {
            throw FormatError(.io, file: directory, "no \(Self.singleFileName) or \(Self.indexFileName) in this folder")
        }
    }

    private init(files: [SafetensorsFile], tensors: [StoredTensor], path: String) {
        self.files = files
        self.tensors = tensors
        self.path = path
    }

    /// Opens the shards that the index file at `path` lists.
    public init(index path: String) throws(FormatError) {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw FormatError(.io, file: path, "cannot read the index: \(error.localizedDescription)")
        }
        let document: JSONValue
        do { document = try JSONParser.parse([UInt8](data)) } catch {
            throw FormatError(.invalidValue, file: path, "\(error)")
        }
        guard let weightMap = document["weight_map"]?.objectValue else {
            throw FormatError(.invalidValue, file: path, "the index has no \"weight_map\" object")
        }
        let folder = (path as NSString).deletingLastPathComponent
        var shardOfTensor: [String: String] = [:]
        var shardNames: [String] = []
        for (tensor, value) in weightMap {
            guard let shard = value.stringValue else {
                throw FormatError(.invalidValue, file: path, "weight_map.\(tensor) must be a file name, got \(value.typeName)")
            }
            guard !shard.isEmpty, !shard.contains("/"), shard != ".", shard != "..", !shard.contains("\0") else {
                throw FormatError(.invalidValue, file: path, "weight_map.\(tensor) names \"\(shard)\", which is not a file name in the checkpoint's folder")
            }
            if !shardNames.contains(shard) { shardNames.append(shard) }
            shardOfTensor[tensor] = shard
        }
        guard !shardNames.isEmpty else {
            throw FormatError(.invalidValue, file: path, "the index lists no tensors")
        }

        var files: [SafetensorsFile] = []
        var tensors: [StoredTensor] = []
        var seen: [String: String] = [:]
        for shard in shardNames {
            let file = try SafetensorsFile(path: folder + "/" + shard)
            for tensor in file.tensors {
                if let other = seen[tensor.name] {
                    throw FormatError(.invalidValue, file: file.path, "tensor \(tensor.name) is also in \(other)")
                }
                guard shardOfTensor[tensor.name] == shard else {
                    let listed = shardOfTensor[tensor.name].map { "the index puts it in \($0)" } ?? "the index does not list it"
                    throw FormatError(.invalidValue, file: file.path, "holds tensor \(tensor.name) but \(listed)")
                }
                seen[tensor.name] = shard
                tensors.append(tensor)
            }
            files.append(file)
        }
        for (tensor, shard) in shardOfTensor where seen[tensor] == nil {
            throw FormatError(.missingTensor, file: path, "the index puts tensor \(tensor) in \(shard), which does not contain it")
        }
        self.init(files: files, tensors: tensors, path: path)
    }
}
