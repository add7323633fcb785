import QuernJSON
import QuernTensor

/// Writes Float32 tensors as a `.safetensors` file that `SafetensorsFile`
/// (and the reference implementation) reads back: an 8-byte little-endian
/// header length, the JSON header — `__metadata__` strings first, then one
/// `{"dtype": "F32", "shape", "data_offsets"}` per tensor — padded with
/// spaces so the data starts on an 8-byte boundary, then the tensors' bytes
/// tiling the buffer in the order given.
public enum SafetensorsEncoder {
    /// One tensor to write: its name, row-major shape and values.
    public struct Entry: Sendable {
        public var name: String
        public var shape: [Int]
        public var values: [Float]

        public init(name: String, shape: [Int], values: [Float]) {
            self.name = name
            self.shape = shape
            self.values = values
        }

        public init(name: String, tensor: Tensor) {
            self.init(name: name, shape: tensor.shape, values: tensor.scalars)
        }
    }

    /// The file's bytes. Names must be unique, non-empty and not
    /// `__metadata__`; each shape must hold exactly its values. `path` names
    /// the file in errors.
    public static func encode(_ entries: [Entry], metadata: [(key: String, value: String)] = [], path: String) throws(FormatError) -> [UInt8] {
        var names: Set<String> = []
        var members: [(key: String, value: JSONValue)] = []
        if !metadata.isEmpty {
            members.append(("__metadata__", .object(metadata.map { ($0.key, JSONValue.string($0.value)) })))
        }
        var offset = 0
        for entry in entries {
            guard !entry.name.isEmpty, entry.name != "__metadata__", names.insert(entry.name).inserted else {
                throw FormatError(.invalidValue, file: path, "tensor name \"\(entry.name)\" is empty, reserved or used twice")
            }
            var count = 1
            for dimension in entry.shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
                guard dimension >= 0, !overflow else { throw FormatError(.invalidValue, file: path, "tensor \(entry.name) has an invalid shape \(entry.shape)") }
                count = product
            }
            guard count == entry.values.count else {
                throw FormatError(.shapeMismatch, file: path, "tensor \(entry.name) has shape \(entry.shape) but \(entry.values.count) values")
            }
            let end = offset + 4 * count
            members.append((entry.name, .object([
                ("dtype", .string("F32")),
                ("shape", .array(entry.shape.map(JSONValue.int))),
                ("data_offsets", .array([.int(offset), .int(end)])),
            ])))
            offset = end
        }
        var header = JSONWriter.bytes(.object(members), style: .compact)
        while (8 + header.count) % 8 != 0 { header.append(0x20) }

        var bytes: [UInt8] = []
        bytes.reserveCapacity(8 + header.count + offset)
        appendLittleEndian(UInt64(header.count), byteCount: 8, to: &bytes)
        bytes += header
        for entry in entries {
            for value in entry.values { appendLittleEndian(UInt64(value.bitPattern), byteCount: 4, to: &bytes) }
        }
        return bytes
    }

    /// Encodes and writes the file atomically (`AtomicFile`).
    public static func write(_ entries: [Entry], metadata: [(key: String, value: String)] = [], to path: String) throws(FormatError) {
        try AtomicFile.write(try encode(entries, metadata: metadata, path: path), to: path)
    }

    private static func appendLittleEndian(_ value: UInt64, byteCount: Int, to bytes: inout [UInt8]) {
        for index in 0..<byteCount { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(index)))) }
    }
}
