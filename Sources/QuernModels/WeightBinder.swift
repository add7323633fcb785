import QuernFormats
import QuernTensor

/// Strict weight binding: a model asks for each tensor by its checkpoint
/// name and expected shape; a missing tensor, a shape that differs or a
/// tensor nobody asked for is an error that names it (`finish()` reports the
/// unused ones). Names that are known not to be weights (buffers such as
/// `position_ids` or GPT-2's `attn.bias` masks) are declared ignorable.
public final class WeightBinder {
    public let file: String
    private var tensors: [String: StoredTensor]
    private var used: Set<String> = []
    /// Mapped bytes copied into float tensors, released once more when
    /// binding is done: a later tensor's page fault may map a released page
    /// again (the kernel maps part of a large page-cache folio at once).
    private var copiedRegions: [(file: MappedFile, bytes: UnsafeRawBufferPointer)] = []

    public init(file: String, tensors: [StoredTensor]) {
        self.file = file
        var table: [String: StoredTensor] = [:]
        for tensor in tensors { table[tensor.name] = tensor }
        self.tensors = table
    }

    public var names: [String] { tensors.keys.sorted() }

    public func contains(_ name: String) -> Bool { tensors[name] != nil }

    /// The stored tensor `name`, whose shape must equal `shape` (nil: any).
    public func stored(_ name: String, shape: [Int]? = nil) throws(FormatError) -> StoredTensor {
        guard let tensor = tensors[name] else {
            throw FormatError(.missingTensor, file: file, "tensor \(name) is missing")
        }
        if let shape, shape != tensor.shape {
            throw FormatError(.shapeMismatch, file: file, "tensor \(name) has shape \(tensor.shape), expected \(shape)")
        }
        used.insert(name)
        return tensor
    }

    /// A float32 copy of tensor `name` (any float element type).
    ///
    /// The model reads the copy from then on, so the stored bytes' pages are
    /// dropped from memory when they are a mapped checkpoint's: otherwise
    /// the weights would stay resident twice (the copy, and the file pages
    /// the copy was read from) for as long as the model keeps the file
    /// mapped for its other weights. A later read of those bytes (a tensor
    /// bound twice) simply pages them in again.
    public func tensor(_ name: String, shape: [Int]? = nil) throws(FormatError) -> Tensor {
        let stored = try stored(name, shape: shape)
        let copy = try stored.floats(file: file)
        if let mapped = stored.owner as? MappedFile {
            mapped.release(stored.bytes)
            copiedRegions.append((mapped, stored.bytes))
        }
        return copy
    }

    /// Tensor `name` as a [rows, columns] weight matrix that keeps its stored
    /// type (quantised or half precision stay as they are, memory-mapped).
    /// A tensor of higher rank is viewed as [shape[0], rest].
    public func matrix(_ name: String, shape: [Int]? = nil) throws(FormatError) -> WeightMatrix {
        let stored = try stored(name, shape: shape)
        guard let type = stored.element.weightType else {
            throw FormatError(.unsupportedType, file: file, "tensor \(name) has element type \(stored.element.rawValue), not a weight type")
        }
        let rows = stored.shape.first ?? 1
        let columns = stored.shape.dropFirst().reduce(1, *)
        do {
            return try WeightMatrix(type: type, rows: rows, columns: columns, bytes: stored.bytes, owner: stored.owner)
        } catch {
            throw FormatError(error, file: file)
        }
    }

    /// Marks tensors as deliberately unused (buffers, heads a task ignores).
    public func ignore(where predicate: (String) -> Bool) {
        for name in tensors.keys where predicate(name) { used.insert(name) }
    }

    /// Throws if any tensor was neither bound nor ignored. Drops the pages
    /// of the tensors copied to float32 (see `tensor`) that loading the
    /// others brought back.
    public func finish() throws(FormatError) {
        for region in copiedRegions { region.file.release(region.bytes) }
        copiedRegions = []
        let unused = tensors.keys.filter { !used.contains($0) }.sorted()
        guard unused.isEmpty else {
            let shown = unused.prefix(8).joined(separator: ", ")
            throw FormatError(.unusedTensor, file: file, "\(unused.count) tensor(s) not used by the model: \(shown)\(unused.count > 8 ? ", …" : "")")
        }
    }
}
