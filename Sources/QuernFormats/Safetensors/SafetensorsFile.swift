import QuernJSON
import QuernTensor

/// One `.safetensors` file, memory-mapped and fully validated.
///
/// Layout: an 8-byte little-endian header length N, N bytes of JSON (an object
/// mapping tensor names to `{"dtype", "shape", "data_offsets": [begin, end]}`
/// plus an optional `"__metadata__"` object of strings), then the data buffer;
/// offsets are relative to the start of that buffer.
///
/// The file is hostile input. Before any tensor is handed out, every entry is
/// checked: known dtype, non-negative shape whose byte size does not
/// overflow, `begin ≤ end`, `end − begin` equal to shape × dtype size, inside
/// the buffer. As the reference implementation does, the tensors must tile
/// the buffer exactly — sorted by offset, each starting where the previous
/// one ended, the last ending at the end of the file — so overlapping
/// tensors, gaps and trailing bytes are all errors.
public struct SafetensorsFile: Sendable {
    /// Headers larger than this are refused before they are parsed (the
    /// reference implementation's limit).
    public static let maximumHeaderBytes = 100_000_000

    public let path: String
    public let file: MappedFile
    /// In data-offset order.
    public let tensors: [StoredTensor]
    /// The `__metadata__` strings (e.g. `format: pt`).
    public let metadata: [String: String]

    public init(path: String) throws(FormatError) {
        let file: MappedFile
        do { file = try MappedFile(path: path) } catch { throw FormatError(error, file: path) }
        try self.init(file: file)
    }

    public init(file: MappedFile) throws(FormatError) {
        self.file = file
        path = file.path
        var reader = ByteReader(file: file)
        guard file.size >= 8 else {
            throw FormatError(.truncated, file: path, "a safetensors file starts with an 8-byte header length; this file has \(file.size) bytes")
        }
        let declared = try reader.read(UInt64.self, "header length")
        guard declared <= UInt64(Self.maximumHeaderBytes) else {
            throw FormatError(.invalidValue, file: path, "header length \(declared) exceeds the limit of \(Self.maximumHeaderBytes) bytes")
        }
        let headerLength = Int(declared)
        guard headerLength <= reader.remaining else {
            throw FormatError(.truncated, file: path, "header length \(headerLength) exceeds the \(reader.remaining) bytes after it")
        }
        guard headerLength >= 2 else {
            throw FormatError(.invalidValue, file: path, "header length \(headerLength) is too small for a JSON object")
        }
        let headerBytes = try reader.bytes(headerLength, "JSON header")
        let dataStart = reader.offset
        let dataLength = file.size - dataStart

        // Checked first so that a header that is no object is refused
        // before the parser walks it.
        guard headerBytes[0] == UInt8(ascii: "{") else {
            throw FormatError(.invalidValue, file: path, "header: the header must be a JSON object")
        }
        // Writers pad the header with spaces to align the data; JSON allows that.
        let document: JSONValue
        do { document = try JSONParser.parse(headerBytes) } catch {
            throw FormatError(.invalidValue, file: path, "header: \(error)")
        }
        guard let header = document.objectValue else {
            throw FormatError(.invalidValue, file: path, "header: the header must be a JSON object")
        }

        var metadata: [String: String] = [:]
        var entries: [Entry] = []
        entries.reserveCapacity(header.count)
        for (name, value) in header {
            if name == "__metadata__" {
                metadata = try Self.metadata(value, file: path)
                continue
            }
            entries.append(try Entry(name: name, value: value, dataLength: dataLength, file: path))
        }

        // The tensors must tile the data buffer: no overlap, no gap, no tail.
        entries.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
        var expectedBegin = 0
        var previous: String?
        for entry in entries {
            if entry.begin < expectedBegin {
                throw FormatError(.invalidValue, file: path, "tensor \(entry.name) (bytes \(entry.begin)..<\(entry.end)) overlaps tensor \(previous ?? "?") which ends at \(expectedBegin)")
            }
            if entry.begin > expectedBegin {
                throw FormatError(.invalidValue, file: path, "\(entry.begin - expectedBegin) unused bytes before tensor \(entry.name) at data offset \(expectedBegin)")
            }
            expectedBegin = entry.end
            previous = entry.name
        }
        guard expectedBegin == dataLength else {
            throw FormatError(.invalidValue, file: path, "the tensors cover \(expectedBegin) bytes of data but the file holds \(dataLength) after the header")
        }

        var tensors: [StoredTensor] = []
        tensors.reserveCapacity(entries.count)
        for entry in entries {
            let bytes: UnsafeRawBufferPointer
            do {
                bytes = try file.bytes(at: dataStart + entry.begin, count: entry.end - entry.begin, what: "tensor \(entry.name)")
            } catch {
                throw FormatError(error, file: path)
            }
            tensors.append(StoredTensor(name: entry.name, shape: entry.shape, element: entry.element, bytes: bytes, owner: file))
        }
        self.tensors = tensors
        self.metadata = metadata
    }

    private static func metadata(_ value: JSONValue, file: String) throws(FormatError) -> [String: String] {
        guard let object = value.objectValue else {
            throw FormatError(.invalidValue, file: file, "__metadata__ must be an object of strings, got \(value.typeName)")
        }
        var result: [String: String] = [:]
        for (key, item) in object {
            guard let text = item.stringValue else {
                throw FormatError(.invalidValue, file: file, "__metadata__.\(key) must be a string, got \(item.typeName)")
            }
            result[key] = text
        }
        return result
    }

    /// One validated header entry.
    private struct Entry {
        let name: String
        let element: StoredTensor.Element
        let shape: [Int]
        let begin: Int
        let end: Int

        init(name: String, value: JSONValue, dataLength: Int, file: String) throws(FormatError) {
            func invalid(_ message: String) -> FormatError { FormatError(.invalidValue, file: file, "tensor \(name): \(message)") }
            guard let object = value.objectValue else { throw invalid("entry must be an object, got \(value.typeName)") }
            for (key, _) in object where !["dtype", "shape", "data_offsets"].contains(key) {
                throw invalid("unknown field \"\(key)\"")
            }
            guard let dtype = value["dtype"]?.stringValue else { throw invalid("missing or non-string \"dtype\"") }
            guard let (element, elementBytes) = SafetensorsDType.element(for: dtype) else {
                if SafetensorsDType.knownButUnsupported.contains(dtype) {
                    throw FormatError(.unsupportedType, file: file, "tensor \(name) has dtype \(dtype), which Quern does not read")
                }
                throw invalid("unknown dtype \"\(dtype)\"")
            }
            guard let dimensions = value["shape"]?.arrayValue else { throw invalid("missing or non-array \"shape\"") }
            var shape: [Int] = []
            var count = 1
            for dimension in dimensions {
                guard let size = dimension.intValue, size >= 0 else {
                    throw invalid("shape \(dimensions.map(Self.describe)) has a dimension that is not a non-negative integer")
                }
                let (product, overflow) = count.multipliedReportingOverflow(by: size)
                guard !overflow else { throw invalid("shape \(dimensions.map(Self.describe)) overflows") }
                count = product
                shape.append(size)
            }
            let (byteCount, overflow) = count.multipliedReportingOverflow(by: elementBytes)
            guard !overflow else { throw invalid("shape \(shape) of \(dtype) overflows") }
            guard let offsets = value["data_offsets"]?.arrayValue, offsets.count == 2,
                  let begin = offsets[0].intValue, let end = offsets[1].intValue else {
                throw invalid("\"data_offsets\" must be two integers")
            }
            guard begin >= 0, begin <= end else { throw invalid("data_offsets [\(begin), \(end)] are not an ordered range") }
            guard end <= dataLength else {
                throw FormatError(.truncated, file: file, "tensor \(name): data_offsets [\(begin), \(end)] run past the \(dataLength) bytes of data")
            }
            guard end - begin == byteCount else {
                throw invalid("shape \(shape) of \(dtype) needs \(byteCount) bytes but data_offsets [\(begin), \(end)] give \(end - begin)")
            }
            self.name = name
            self.element = element
            self.shape = shape
            self.begin = begin
            self.end = end
        }

        private static func describe(_ node: JSONValue) -> String {
            if case let .number(text) = node { return text }
            return node.typeName
        }
    }
}
