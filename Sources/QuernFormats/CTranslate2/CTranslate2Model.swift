import QuernTensor

/// A CTranslate2 `model.bin` (binary format version 6), memory-mapped and
/// fully validated before any tensor is handed out.
///
/// Layout, little-endian, no alignment padding:
/// ```
/// u32 version (6) · str spec name · u32 spec revision · u32 variable count
/// per variable: str name · u8 rank · u32 dims[rank] · u8 dtype · u32 byte count · bytes
/// u32 alias count · per alias: str alias · str target
/// ```
/// A `str` is a u16 length that counts a trailing NUL, then that many bytes,
/// the last of which is the NUL. dtype codes: 0 f32, 1 i8, 2 i16, 3 i32,
/// 4 f16, 5 bf16. Rank-0 variables are the spec's options (`num_heads`,
/// `pre_norm`, the activation code…), exposed as `scalars`.
///
/// The file is hostile input: every string, rank, dimension, dtype and byte
/// count is checked, byte counts must equal the dimensions times the element
/// size, names must be unique, aliases must name a variable, and the file
/// must end right after the alias table.
public struct CTranslate2Model: Sendable {
    public static let fileName = "model.bin"
    public static let supportedVersion: UInt32 = 6
    /// More dimensions than any CTranslate2 spec uses is corruption.
    public static let maximumRank = 8

    public let path: String
    public let file: MappedFile
    public let specName: String
    public let specRevision: Int
    /// Variables of rank ≥ 1, in file order.
    public let tensors: [StoredTensor]
    /// Rank-0 variables (the spec's options), by name.
    public let scalars: [String: StoredTensor]
    /// alias name → the variable it stands for (e.g. `decoder/projection/weight`
    /// → `decoder/embeddings/weight` when the output projection is tied).
    public let aliases: [String: String]

    public init(path: String) throws(FormatError) {
        let file: MappedFile
        do { file = try MappedFile(path: path) } catch { throw FormatError(error, file: path) }
        try self.init(file: file)
    }

    public init(file: MappedFile) throws(FormatError) {
        self.file = file
        path = file.path
        var reader = ByteReader(file: file)
        let version = try reader.read(UInt32.self, "format version")
        guard version == Self.supportedVersion else {
            throw FormatError(.unsupportedVersion, file: path, "CTranslate2 binary version \(version) is not supported (version \(Self.supportedVersion) is)")
        }
        specName = try Self.readString(&reader, "spec name")
        specRevision = Int(try reader.read(UInt32.self, "spec revision"))
        let variableCount = Int(try reader.read(UInt32.self, "variable count"))
        // The smallest variable entry is a 2-byte name of one character plus NUL
        // (4 bytes), rank, dtype and byte count: 10 bytes.
        guard variableCount <= reader.remaining / 10 else {
            throw FormatError(.truncated, file: path, "\(variableCount) variables cannot fit in the \(reader.remaining) bytes that remain")
        }
        var tensors: [StoredTensor] = [], scalars: [String: StoredTensor] = [:], names: Set<String> = []
        tensors.reserveCapacity(variableCount)
        for index in 0..<variableCount {
            let name = try Self.readString(&reader, "name of variable \(index)")
            guard names.insert(name).inserted else {
                throw FormatError(.invalidValue, file: path, "variable \(name) appears twice")
            }
            let rank = Int(try reader.read(UInt8.self, "rank of \(name)"))
            guard rank <= Self.maximumRank else {
                throw FormatError(.invalidValue, file: path, "variable \(name) has rank \(rank), more than \(Self.maximumRank)")
            }
            var shape: [Int] = []
            var elements = 1
            for axis in 0..<rank {
                let dimension = Int(try reader.read(UInt32.self, "dimension \(axis) of \(name)"))
                let (product, overflow) = elements.multipliedReportingOverflow(by: dimension)
                guard !overflow else { throw FormatError(.invalidValue, file: path, "variable \(name) has too many elements") }
                shape.append(dimension)
                elements = product
            }
            let code = try reader.read(UInt8.self, "dtype of \(name)")
            guard let element = Self.element(code) else {
                throw FormatError(.unsupportedType, file: path, "variable \(name) has unknown dtype code \(code)")
            }
            let byteCount = Int(try reader.read(UInt32.self, "byte count of \(name)"))
            let (expected, overflow) = elements.multipliedReportingOverflow(by: Self.elementSize(element))
            guard !overflow, expected == byteCount else {
                throw FormatError(.invalidValue, file: path, "variable \(name) \(shape) of \(element.rawValue) declares \(byteCount) bytes, its shape needs \(overflow ? "more than Int.max" : String(expected))")
            }
            let bytes = try reader.bytes(byteCount, "data of \(name)")
            let stored = StoredTensor(name: name, shape: shape, element: element, bytes: bytes, owner: file)
            if rank == 0 { scalars[name] = stored } else { tensors.append(stored) }
        }
        let aliasCount = Int(try reader.read(UInt32.self, "alias count"))
        guard aliasCount <= reader.remaining / 8 else {
            throw FormatError(.truncated, file: path, "\(aliasCount) aliases cannot fit in the \(reader.remaining) bytes that remain")
        }
        var aliases: [String: String] = [:]
        for index in 0..<aliasCount {
            let alias = try Self.readString(&reader, "alias \(index)")
            let target = try Self.readString(&reader, "target of alias \(alias)")
            guard !names.contains(alias), aliases[alias] == nil else {
                throw FormatError(.invalidValue, file: path, "alias \(alias) repeats the name of a variable or another alias")
            }
            guard names.contains(target) else {
                throw FormatError(.invalidValue, file: path, "alias \(alias) points to \(target), which is not a variable of the file")
            }
            aliases[alias] = target
        }
        guard reader.remaining == 0 else {
            throw FormatError(.invalidValue, file: path, "\(reader.remaining) unexpected bytes after the alias table")
        }
        self.tensors = tensors
        self.scalars = scalars
        self.aliases = aliases
    }

    /// The variable `name`, following an alias.
    public func tensor(named name: String) -> StoredTensor? {
        let resolved = aliases[name] ?? name
        return tensors.first { $0.name == resolved } ?? scalars[resolved]
    }

    /// An option's value as an integer (integer or float scalars holding a whole number).
    public func integerOption(_ name: String) -> Int? {
        guard let value = numericOption(name), value.rounded() == value, abs(value) < 1e15 else { return nil }
        return Int(value)
    }

    /// An option's value (any numeric dtype).
    public func numericOption(_ name: String) -> Double? {
        guard let scalar = scalars[aliases[name] ?? name] else { return nil }
        let raw = scalar.bytes
        switch scalar.element {
        case .i8: return Double(Int8(bitPattern: raw[0]))
        case .i16: return Double(Int16(littleEndian: raw.loadUnaligned(as: Int16.self)))
        case .i32: return Double(Int32(littleEndian: raw.loadUnaligned(as: Int32.self)))
        case .f32: return Double(Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(as: UInt32.self))))
        case .f16: return Double(HalfFloat.float(fromHalf: UInt16(littleEndian: raw.loadUnaligned(as: UInt16.self))))
        case .bf16: return Double(HalfFloat.float(fromBFloat16: UInt16(littleEndian: raw.loadUnaligned(as: UInt16.self))))
        default: return nil
        }
    }

    static func element(_ code: UInt8) -> StoredTensor.Element? {
        switch code {
        case 0: return .f32
        case 1: return .i8
        case 2: return .i16
        case 3: return .i32
        case 4: return .f16
        case 5: return .bf16
        default: return nil
        }
    }

    static func elementSize(_ element: StoredTensor.Element) -> Int {
        switch element {
        case .f32, .i32: return 4
        case .f16, .bf16, .i16: return 2
        default: return 1
        }
    }

    /// A length-prefixed, NUL-terminated UTF-8 string.
    static func readString(_ reader: inout ByteReader, _ what: String) throws(FormatError) -> String {
        let length = Int(try reader.read(UInt16.self, "length of \(what)"))
        guard length >= 1 else {
            throw FormatError(.invalidValue, file: reader.file.path, "\(what) has length 0; the length counts a trailing NUL")
        }
        let raw = try reader.bytes(length, what)
        guard raw[length - 1] == 0 else {
            throw FormatError(.invalidValue, file: reader.file.path, "\(what) does not end with a NUL byte")
        }
        let body = UnsafeRawBufferPointer(rebasing: raw[0..<(length - 1)])
        guard !body.contains(0), let text = String(validating: body, as: UTF8.self) else {
            throw FormatError(.invalidValue, file: reader.file.path, "\(what) is not a NUL-free UTF-8 string")
        }
        return text
    }
}
