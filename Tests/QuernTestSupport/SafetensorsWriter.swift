import Foundation

/// Writes safetensors files for tests, well-formed or deliberately broken.
public struct SafetensorsWriter {
    public struct Entry {
        public var name: String
        public var dtype: String
        public var shape: [Int]
        public var bytes: [UInt8]

        public init(name: String, dtype: String, shape: [Int], bytes: [UInt8]) {
            self.name = name
            self.dtype = dtype
            self.shape = shape
            self.bytes = bytes
        }
    }

    /// The bytes of a file holding `entries` (data in order) whose header is
    /// `header` when given (for broken headers), else the correct one.
    public static func file(_ entries: [Entry], metadata: [String: String]? = nil, header: String? = nil, trailing: [UInt8] = []) -> [UInt8] {
        var json = header ?? ""
        var data: [UInt8] = []
        if header == nil {
            var members: [String] = []
            if let metadata {
                let pairs = metadata.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\"\($0.value)\"" }
                members.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
            }
            for entry in entries {
                let begin = data.count
                data += entry.bytes
                members.append("\"\(entry.name)\":{\"dtype\":\"\(entry.dtype)\",\"shape\":[\(entry.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(begin),\(data.count)]}")
            }
            json = "{" + members.joined(separator: ",") + "}"
            while (8 + json.utf8.count) % 8 != 0 { json += " " }
        } else {
            for entry in entries { data += entry.bytes }
        }
        var bytes = withUnsafeBytes(of: UInt64(json.utf8.count).littleEndian, Array.init)
        bytes += Array(json.utf8)
        return bytes + data + trailing
    }

    public static func floats(_ values: [Float]) -> [UInt8] { values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) } }

    public static func write(_ bytes: [UInt8], to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// Writes `bytes` as model.safetensors in a fresh temporary folder; its path.
    public static func temporaryFile(_ bytes: [UInt8]) throws -> String {
        let path = try folder() + "/model.safetensors"
        try write(bytes, to: path)
        return path
    }

    /// A fresh temporary folder.
    public static func folder() throws -> String {
        let path = NSTemporaryDirectory() + "quern-safetensors-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
