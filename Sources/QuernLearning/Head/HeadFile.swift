import Foundation
import QuernFormats
import QuernJSON
import QuernTensor

/// A head on disk: a folder holding `head.safetensors` (Float32 tensors
/// `layers.<i>.weight` [out, in], `layers.<i>.bias` [out],
/// `standardisation.mean` and `standardisation.std` [in]) and `head.json`
/// (`HeadManifest`).
///
/// Reading treats both files as hostile: every key, shape and value is
/// checked (finite weights, std > 0, the tensors exactly those the
/// architecture needs) and every error is `learning.invalid_head` naming
/// the file. Writing puts both files in a hidden temporary folder beside
/// the target, fsyncs them, then renames the folder into place, so a reader
/// (the daemon's head library) sees the old head or the new one, never a mix.
public struct HeadFile: Sendable {
    public static let manifestName = "head.json"
    public static let weightsName = "head.safetensors"
    /// head.json is a few kilobytes; anything this large is not one.
    static let manifestLimit = 16 << 20

    public let head: Head
    public let manifest: HeadManifest

    /// Pairs a head with its manifest; they must agree on the architecture
    /// and the classes.
    public init(head: Head, manifest: HeadManifest) throws(LearningError) {
        try HeadName.validate(manifest.name)
        guard head.architecture == manifest.architecture else {
            throw LearningError(.invalidHead, "the manifest's architecture (\(manifest.architecture.kindName)) is not the head's (\(head.architecture.kindName))")
        }
        guard head.classes == manifest.classes else {
            throw LearningError(.invalidHead, "the manifest's classes (\(manifest.classes.joined(separator: ", "))) are not the head's (\(head.classes.joined(separator: ", ")))")
        }
        self.head = head
        self.manifest = manifest
    }

    // MARK: Reading

    /// Reads and checks the head in `folder`.
    public init(folder: String) throws(LearningError) {
        let manifestPath = folder + "/" + Self.manifestName
        let weightsPath = folder + "/" + Self.weightsName
        let read: [UInt8]?
        do { read = try RegularFile.readIfPresent(manifestPath, limit: Self.manifestLimit) } catch {
            throw LearningError(.invalidHead, error.description)
        }
        guard let bytes = read else { throw LearningError(.invalidHead, "\(folder) is not a head: it has no \(Self.manifestName)") }
        let document: JSONValue
        do { document = try JSONParser.parse(bytes) } catch {
            throw LearningError(.invalidHead, "\(manifestPath): not valid JSON: \(error)")
        }
        let manifest = try HeadManifest(json: document, file: manifestPath)
        let head = try Self.readWeights(weightsPath, manifest: manifest)
        try self.init(head: head, manifest: manifest)
    }

    /// The tensor names a head of `architecture` has, in file order.
    public static func tensorNames(for architecture: HeadArchitecture) -> [String] {
        architecture.layerShapes.indices.flatMap { ["layers.\($0).weight", "layers.\($0).bias"] }
            + ["standardisation.mean", "standardisation.std"]
    }

    private static func readWeights(_ path: String, manifest: HeadManifest) throws(LearningError) -> Head {
        let file: SafetensorsFile
        do { file = try SafetensorsFile(path: path) } catch {
            if error.kind == .io, !FileManager.default.fileExists(atPath: path) {
                throw LearningError(.invalidHead, "\(path) is missing: a head folder holds \(manifestName) and \(weightsName)")
            }
            throw LearningError(.invalidHead, error.description)
        }
        let architecture = manifest.architecture
        let expected = tensorNames(for: architecture)
        let byName = Dictionary(file.tensors.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for name in expected where byName[name] == nil {
            throw LearningError(.invalidHead, "\(path): tensor \(name) is missing (a \(architecture.kindName) head has \(expected.joined(separator: ", ")))")
        }
        for tensor in file.tensors where !expected.contains(tensor.name) {
            throw LearningError(.invalidHead, "\(path): unexpected tensor \(tensor.name) (a \(architecture.kindName) head has \(expected.joined(separator: ", ")))")
        }

        func values(_ name: String, shape: [Int]) throws(LearningError) -> Tensor {
            // Names were checked above.
            guard let stored = byName[name] else { throw LearningError(.invalidHead, "\(path): tensor \(name) is missing") }
            guard stored.element == .f32 else {
                throw LearningError(.invalidHead, "\(path): tensor \(name) is \(stored.element.rawValue.uppercased()); head tensors are F32")
            }
            guard stored.shape == shape else {
                throw LearningError(.invalidHead, "\(path): tensor \(name) has shape \(stored.shape), \(manifestName) makes it \(shape)")
            }
            let tensor: Tensor
            do { tensor = try stored.floats(file: path) } catch { throw LearningError(.invalidHead, error.description) }
            if let bad = tensor.scalars.firstIndex(where: { !$0.isFinite }) {
                throw LearningError(.invalidHead, "\(path): tensor \(name) holds \(tensor.scalars[bad]) at index \(bad); every value must be finite")
            }
            return tensor
        }

        var layers: [DenseLayer] = []
        for (index, shape) in architecture.layerShapes.enumerated() {
            let weight = try values("layers.\(index).weight", shape: [shape.output, shape.input])
            let bias = try values("layers.\(index).bias", shape: [shape.output])
            layers.append(DenseLayer(checkedWeight: weight, bias: bias))
        }
        let mean = try values("standardisation.mean", shape: [architecture.inputWidth]).scalars
        let std = try values("standardisation.std", shape: [architecture.inputWidth]).scalars
        do {
            return try Head(architecture: architecture, classes: manifest.classes,
                            standardisation: try Standardisation(mean: mean, std: std), parameters: HeadParameters(layers: layers))
        } catch {
            throw LearningError(.invalidHead, "\(path): \(error.message)")
        }
    }

    // MARK: Writing

    /// The tensors of head.safetensors, in file order.
    public var tensors: [SafetensorsEncoder.Entry] {
        var entries: [SafetensorsEncoder.Entry] = []
        for (index, layer) in head.parameters.layers.enumerated() {
            entries.append(SafetensorsEncoder.Entry(name: "layers.\(index).weight", tensor: layer.weight))
            entries.append(SafetensorsEncoder.Entry(name: "layers.\(index).bias", tensor: layer.bias))
        }
        let width = head.standardisation.width
        entries.append(SafetensorsEncoder.Entry(name: "standardisation.mean", shape: [width], values: head.standardisation.mean))
        entries.append(SafetensorsEncoder.Entry(name: "standardisation.std", shape: [width], values: head.standardisation.std))
        return entries
    }

    /// Writes the head as `folder` (created with its parents; an existing
    /// head there is replaced), with `extraFiles` (e.g. `report.svg`) beside
    /// its two files, all appearing at once.
    public func write(to folder: String, extraFiles: [(name: String, bytes: [UInt8])] = []) throws(LearningError) {
        var files: [(name: String, bytes: [UInt8])] = []
        do {
            let weights = try SafetensorsEncoder.encode(tensors, metadata: [("format", HeadManifest.format)], path: folder + "/" + Self.weightsName)
            files = [(Self.weightsName, weights), (Self.manifestName, JSONWriter.bytes(manifest.json, style: .pretty) + [0x0A])]
        } catch {
            throw LearningError(.io, error.description)
        }
        for extra in extraFiles {
            guard !extra.name.isEmpty, !extra.name.contains("/"), extra.name != ".", extra.name != "..",
                  !files.contains(where: { $0.name == extra.name }) else {
                throw LearningError(.invalidParameter, "cannot write \"\(extra.name)\" beside a head: not a plain file name, or one of the head's own")
            }
            files.append(extra)
        }
        do { try AtomicFolder.install(files, as: folder) } catch { throw LearningError(.io, error.description) }
    }

    /// Writes the head into `library` (e.g. `models/heads`) as the folder
    /// named after it; the folder's path.
    @discardableResult
    public func install(in library: String, extraFiles: [(name: String, bytes: [UInt8])] = []) throws(LearningError) -> String {
        let folder = library + "/" + manifest.name
        try write(to: folder, extraFiles: extraFiles)
        return folder
    }
}
