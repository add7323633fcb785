import QuernTensor

/// A GGUF file (versions 2 and 3): metadata, tensor directory and the
/// memory-mapped tensor data.
///
/// Layout (ggml's gguf.cpp / docs/gguf.md), little-endian: magic "GGUF",
/// u32 version, u64 tensor count, u64 metadata count; metadata key/value
/// pairs; tensor infos (name, u32 rank, u64 dims innermost first, u32 ggml
/// type, u64 offset relative to the data section); padding to
/// `general.alignment` (default 32); the data section. Every count, length,
/// offset and shape is checked against the file before use.
public struct GGUFFile: @unchecked Sendable {
    public let path: String
    public let version: UInt32
    public let metadata: [String: GGUFValue]
    /// Keys in file order (for listing).
    public let metadataKeys: [String]
    public let tensors: [StoredTensor]
    public let alignment: Int
    public let file: MappedFile

    /// ggml type ids Quern reads (ggml.h `enum ggml_type`).
    static let elementTypes: [UInt32: StoredTensor.Element] = [0: .f32, 1: .f16, 2: .q4_0, 3: .q4_1, 8: .q8_0, 30: .bf16]
    static let typeNames: [UInt32: String] = [
        0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0", 9: "Q8_1", 10: "Q2_K", 11: "Q3_K",
        12: "Q4_K", 13: "Q5_K", 14: "Q6_K", 15: "Q8_K", 16: "IQ2_XXS", 24: "I8", 25: "I16", 26: "I32", 27: "I64",
        28: "F64", 29: "IQ1_M", 30: "BF16", 34: "TQ1_0", 35: "TQ2_0", 39: "MXFP4",
    ]

    public init(path: String) throws(FormatError) {
        let file: MappedFile
        do { file = try MappedFile(path: path) } catch { throw FormatError(error, file: path) }
        var reader = ByteReader(file: file)
        let magic = try reader.read(UInt32.self, "magic")
        guard magic == 0x4655_4747 else {
            throw FormatError(.badMagic, file: path, "not a GGUF file (magic 0x\(String(magic, radix: 16)), expected \"GGUF\")")
        }
        let version = try reader.read(UInt32.self, "version")
        guard version == 2 || version == 3 else {
            throw FormatError(.unsupportedVersion, file: path, "GGUF version \(version) is not supported (2 and 3 are)")
        }
        let tensorCount = try reader.read(UInt64.self, "tensor count")
        let metadataCount = try reader.read(UInt64.self, "metadata count")
        // Each tensor info and key/value pair takes well over 8 bytes: a
        // count the file cannot hold is rejected before anything is allocated.
        guard tensorCount <= UInt64(reader.remaining / 8), metadataCount <= UInt64(reader.remaining / 8) else {
            throw FormatError(.invalidValue, file: path, "header claims \(tensorCount) tensors and \(metadataCount) metadata entries, more than the file can hold")
        }

        var metadata: [String: GGUFValue] = [:]
        var keys: [String] = []
        for index in 0..<Int(metadataCount) {
            let key = try GGUFValue.readString(&reader, "metadata key \(index)")
            let type = try reader.read(UInt32.self, "type of \(key)")
            let value = try GGUFValue.read(&reader, type: type, key: key, depth: 0)
            if metadata.updateValue(value, forKey: key) != nil {
                throw FormatError(.invalidValue, file: path, "metadata key \(key) appears twice")
            }
            keys.append(key)
        }

        var alignment = 32
        if let declared = metadata["general.alignment"] {
            guard let value = declared.integer, value > 0, value & (value - 1) == 0, value <= 1 << 20 else {
                throw FormatError(.invalidValue, file: path, "general.alignment must be a power of two, got \(declared)")
            }
            alignment = value
        }

        struct Info { let name: String; let dims: [Int]; let type: UInt32; let offset: UInt64 }
        var infos: [Info] = []
        var names = Set<String>()
        for index in 0..<Int(tensorCount) {
            let name = try GGUFValue.readString(&reader, "name of tensor \(index)")
            guard names.insert(name).inserted else { throw FormatError(.invalidValue, file: path, "tensor \(name) appears twice") }
            let rank = try reader.read(UInt32.self, "rank of \(name)")
            guard rank >= 1, rank <= 4 else { throw FormatError(.invalidValue, file: path, "tensor \(name) has rank \(rank) (1 to 4 allowed)") }
            var dims: [Int] = []
            for d in 0..<Int(rank) {
                let size = try reader.read(UInt64.self, "dimension \(d) of \(name)")
                guard size <= UInt64(Int32.max) else { throw FormatError(.invalidValue, file: path, "tensor \(name) dimension \(size) is too large") }
                dims.append(Int(size))
            }
            let type = try reader.read(UInt32.self, "type of \(name)")
            let offset = try reader.read(UInt64.self, "offset of \(name)")
            infos.append(Info(name: name, dims: dims, type: type, offset: offset))
        }

        let dataStart = (reader.offset + alignment - 1) / alignment * alignment
        guard dataStart <= file.size else {
            throw FormatError(.truncated, file: path, "tensor data would start at \(dataStart), past the end of the file (\(file.size) bytes)")
        }
        let dataSize = file.size - dataStart

        var tensors: [StoredTensor] = []
        for info in infos {
            guard let element = Self.elementTypes[info.type] else {
                let typeName = Self.typeNames[info.type] ?? "type \(info.type)"
                throw FormatError(.unsupportedType, file: path, "tensor \(info.name) is \(typeName); Quern reads F32, F16, BF16, Q8_0, Q4_0 and Q4_1")
            }
            let weightType = element.weightType!
            // GGUF lists dimensions innermost first; Quern uses PyTorch order.
            let shape = Array(info.dims.reversed())
            let count: Int
            do { count = try elementCount(of: shape) } catch { throw FormatError(error, file: path) }
            guard info.dims[0] % weightType.blockValues == 0 else {
                throw FormatError(.invalidValue, file: path, "tensor \(info.name): row of \(info.dims[0]) values is not a whole number of \(weightType.rawValue) blocks")
            }
            let byteCount = count / weightType.blockValues * weightType.blockBytes
            guard info.offset % UInt64(alignment) == 0 else {
                throw FormatError(.invalidValue, file: path, "tensor \(info.name) offset \(info.offset) is not aligned to \(alignment)")
            }
            guard info.offset <= UInt64(dataSize), UInt64(byteCount) <= UInt64(dataSize) - info.offset else {
                throw FormatError(.truncated, file: path, "tensor \(info.name) (\(byteCount) bytes at data offset \(info.offset)) runs past the end of the file")
            }
            let bytes: UnsafeRawBufferPointer
            do { bytes = try file.bytes(at: dataStart + Int(info.offset), count: byteCount, what: "tensor \(info.name)") } catch { throw FormatError(error, file: path) }
            tensors.append(StoredTensor(name: info.name, shape: shape, element: element, bytes: bytes, owner: file))
        }

        self.path = path
        self.version = version
        self.metadata = metadata
        self.metadataKeys = keys
        self.tensors = tensors
        self.alignment = alignment
        self.file = file
    }

    // MARK: Typed metadata access with errors that name the key.

    public func string(_ key: String) throws(FormatError) -> String {
        guard let value = metadata[key] else { throw FormatError(.invalidValue, file: path, "metadata \(key) is missing") }
        guard case .string(let text) = value else { throw FormatError(.invalidValue, file: path, "metadata \(key) is not a string") }
        return text
    }

    public func integer(_ key: String) throws(FormatError) -> Int {
        guard let value = metadata[key] else { throw FormatError(.invalidValue, file: path, "metadata \(key) is missing") }
        guard let number = value.integer else { throw FormatError(.invalidValue, file: path, "metadata \(key) is not an integer") }
        return number
    }

    public func float(_ key: String) throws(FormatError) -> Double {
        guard let value = metadata[key] else { throw FormatError(.invalidValue, file: path, "metadata \(key) is missing") }
        guard let number = value.double else { throw FormatError(.invalidValue, file: path, "metadata \(key) is not a number") }
        return number
    }

    public func optionalInteger(_ key: String) throws(FormatError) -> Int? {
        metadata[key] == nil ? nil : try integer(key)
    }

    public func optionalFloat(_ key: String) throws(FormatError) -> Double? {
        metadata[key] == nil ? nil : try float(key)
    }

    public func strings(_ key: String) throws(FormatError) -> [String] {
        guard case .array(let items)? = metadata[key] else { throw FormatError(.invalidValue, file: path, "metadata \(key) is missing or not an array") }
        var result: [String] = []
        result.reserveCapacity(items.count)
        for item in items {
            guard case .string(let text) = item else { throw FormatError(.invalidValue, file: path, "metadata \(key) holds a non-string") }
            result.append(text)
        }
        return result
    }

    public func integers(_ key: String) throws(FormatError) -> [Int] {
        guard case .array(let items)? = metadata[key] else { throw FormatError(.invalidValue, file: path, "metadata \(key) is missing or not an array") }
        var result: [Int] = []
        result.reserveCapacity(items.count)
        for item in items {
            guard let number = item.integer else { throw FormatError(.invalidValue, file: path, "metadata \(key) holds a non-integer") }
            result.append(number)
        }
        return result
    }
}

/// A GGUF metadata value (gguf_type).
public indirect enum GGUFValue: Sendable, CustomStringConvertible, Equatable {
    case unsigned(UInt64)
    case signed(Int64)
    case float(Double)
    case bool(Bool)
    case string(String)
    case array([GGUFValue])

    public var integer: Int? {
        switch self {
        case .unsigned(let value): return value <= UInt64(Int.max) ? Int(value) : nil
        case .signed(let value): return Int(value)
        default: return nil
        }
    }

    public var double: Double? {
        switch self {
        case .float(let value): return value
        case .unsigned(let value): return Double(value)
        case .signed(let value): return Double(value)
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .unsigned(let value): return String(value)
        case .signed(let value): return String(value)
        case .float(let value): return String(value)
        case .bool(let value): return String(value)
        case .string(let value): return "\"\(value)\""
        case .array(let items): return "[\(items.count) items]"
        }
    }

    static func readString(_ reader: inout ByteReader, _ what: @autoclosure () -> String) throws(FormatError) -> String {
        let length = try reader.read(UInt64.self, "length of \(what())")
        guard length <= UInt64(reader.remaining) else {
            throw FormatError(.truncated, file: reader.file.path, "\(what()) claims \(length) bytes, the file has \(reader.remaining) left")
        }
        return try reader.readString(count: Int(length), what())
    }

    /// Reads one value of gguf type `type`. Arrays may nest (a GGUF array
    /// of arrays); depth is bounded so a hostile file cannot exhaust the stack.
    static func read(_ reader: inout ByteReader, type: UInt32, key: String, depth: Int) throws(FormatError) -> GGUFValue {
        switch type {
        case 0: return .unsigned(UInt64(try reader.read(UInt8.self, key)))
        case 1: return .signed(Int64(try reader.read(Int8.self, key)))
        case 2: return .unsigned(UInt64(try reader.read(UInt16.self, key)))
        case 3: return .signed(Int64(try reader.read(Int16.self, key)))
        case 4: return .unsigned(UInt64(try reader.read(UInt32.self, key)))
        case 5: return .signed(Int64(try reader.read(Int32.self, key)))
        case 6: return .float(Double(try reader.readFloat(key)))
        case 7:
            let byte = try reader.read(UInt8.self, key)
            guard byte <= 1 else { throw FormatError(.invalidValue, file: reader.file.path, "\(key): boolean byte \(byte)") }
            return .bool(byte == 1)
        case 8: return .string(try readString(&reader, key))
        case 9:
            guard depth < 4 else { throw FormatError(.invalidValue, file: reader.file.path, "\(key): arrays nested too deeply") }
            let elementType = try reader.read(UInt32.self, "element type of \(key)")
            let count = try reader.read(UInt64.self, "element count of \(key)")
            // Every element takes at least one byte.
            guard count <= UInt64(reader.remaining) else {
                throw FormatError(.truncated, file: reader.file.path, "\(key) claims \(count) elements, the file has \(reader.remaining) bytes left")
            }
            var items: [GGUFValue] = []
            items.reserveCapacity(Int(count))
            for _ in 0..<Int(count) { items.append(try read(&reader, type: elementType, key: key, depth: depth + 1)) }
            return .array(items)
        case 10: return .unsigned(try reader.read(UInt64.self, key))
        case 11: return .signed(try reader.read(Int64.self, key))
        case 12: return .float(try reader.readDouble(key))
        default:
            throw FormatError(.invalidValue, file: reader.file.path, "\(key) has unknown value type \(type)")
        }
    }
}
