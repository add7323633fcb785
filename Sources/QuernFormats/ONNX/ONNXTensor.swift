import QuernTensor

/// An ONNX `TensorProto` (an initializer or a tensor attribute): its shape,
/// element type and where its values are. Values stay in the mapped file
/// (`raw_data` or a packed `float_data` run) until a model asks for them.
public struct ONNXTensor: @unchecked Sendable {
    /// ONNX `TensorProto.DataType` codes this reader can hand out.
    public enum DataType: Int32, Sendable {
        case float = 1, uint8 = 2, int8 = 3, int32 = 6, int64 = 7, double = 11
    }

    public let name: String
    public let dims: [Int]
    public let dataType: DataType
    public var count: Int { dims.reduce(1, *) }

    /// Little-endian element bytes (raw_data, or a packed float/double run).
    private let littleEndianBytes: UnsafeRawBufferPointer?
    /// Values given as varints (int32_data/int64_data) or unpacked floats.
    private let listedIntegers: [Int64]
    private let listedFloats: [Float]
    private let file: String
    /// Keeps the mapped file alive while this tensor points into it.
    private let owner: AnyObject

    /// The values as a float32 tensor of shape `dims` (float, double and
    /// integer tensors; integers must be exactly representable).
    public func floats() throws(FormatError) -> Tensor {
        // The stored values must fill the declared shape before anything is
        // allocated: a hostile shape must not become a huge allocation.
        let n = count
        if let raw = littleEndianBytes {
            guard raw.count == n * dataType.byteWidth else {
                throw FormatError(.shapeMismatch, file: file, "tensor \(name) \(dims) holds \(raw.count) bytes, expected \(n * dataType.byteWidth)")
            }
        } else {
            let listed = dataType == .float || dataType == .double ? listedFloats.count : listedIntegers.count
            guard listed == n else {
                throw FormatError(.shapeMismatch, file: file, "tensor \(name) \(dims) lists \(listed) values, expected \(n)")
            }
        }
        let values = Tensor(zeros: dims)
        values.withMutablePointer { out in
            if let raw = littleEndianBytes {
                for i in 0..<n { out[i] = dataType.decode(raw, index: i) }
            } else if dataType == .float || dataType == .double {
                for i in 0..<n { out[i] = listedFloats[i] }
            } else {
                for i in 0..<n { out[i] = Float(listedIntegers[i]) }
            }
        }
        return values
    }

    /// The values of an integer tensor (e.g. a Reshape target shape).
    public func integers() throws(FormatError) -> [Int64] {
        guard dataType == .int64 || dataType == .int32 || dataType == .int8 || dataType == .uint8 else {
            throw FormatError(.unsupportedType, file: file, "tensor \(name) is \(dataType), not an integer tensor")
        }
        let n = count
        if let raw = littleEndianBytes {
            guard raw.count == n * dataType.byteWidth else {
                throw FormatError(.shapeMismatch, file: file, "tensor \(name) \(dims) holds \(raw.count) bytes, expected \(n * dataType.byteWidth)")
            }
            return (0..<n).map { i in
                switch dataType {
                case .int64: Int64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: Int64.self))
                case .int32: Int64(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: Int32.self)))
                case .int8: Int64(Int8(bitPattern: raw[i]))
                default: Int64(raw[i])
                }
            }
        }
        guard listedIntegers.count == n else {
            throw FormatError(.shapeMismatch, file: file, "tensor \(name) \(dims) lists \(listedIntegers.count) values, expected \(n)")
        }
        return listedIntegers
    }

    /// Parses a TensorProto message.
    static func parse(_ reader: inout ProtobufReader, owner: AnyObject) throws(FormatError) -> ONNXTensor {
        var dims: [Int64] = []
        var typeCode: Int32 = 0
        var name = ""
        var raw: UnsafeRawBufferPointer?
        var packedFloats: UnsafeRawBufferPointer?
        var packedDoubles: UnsafeRawBufferPointer?
        var floats: [Float] = []
        var integers: [Int64] = []
        var external = false
        while let field = try reader.nextField() {
            switch field.number {
            case 1: try reader.readRepeatedInt64(field, "dims", into: &dims)
            case 2: typeCode = try reader.readInt32(field, "data_type")
            case 4:
                // float_data: usually one packed run that can stay in the file.
                if field.wireType == .lengthDelimited, floats.isEmpty, packedFloats == nil {
                    packedFloats = try reader.readLengthDelimited("float_data")
                } else {
                    if let packed = packedFloats { floats += Self.unpackFloats(packed); packedFloats = nil }
                    try reader.readRepeatedFloat(field, "float_data", into: &floats)
                }
            case 5, 7: try reader.readRepeatedInt64(field, field.number == 5 ? "int32_data" : "int64_data", into: &integers)
            case 8: name = try reader.readString("name")
            case 9: raw = try reader.readLengthDelimited("raw_data")
            case 10:
                guard field.wireType == .lengthDelimited, packedDoubles == nil else {
                    throw reader.invalid("double_data of tensor \(name) is not one packed run")
                }
                packedDoubles = try reader.readLengthDelimited("double_data")
            case 13: external = true; try reader.skip(field)
            case 14: if try reader.readInt32(field, "data_location") == 1 { external = true }
            default: try reader.skip(field)
            }
        }
        let file = reader.file
        let label = name.isEmpty ? "(unnamed)" : name
        guard !external else {
            throw FormatError(.unsupportedType, file: file,
                              "tensor \(label) keeps its values in an external data file; only self-contained .onnx files are read")
        }
        guard let dataType = DataType(rawValue: typeCode) else {
            throw FormatError(.unsupportedType, file: file, "tensor \(label) has ONNX data type \(typeCode), which this reader does not handle")
        }
        var shape: [Int] = []
        var total = 1
        for dim in dims {
            guard dim >= 0, dim <= Int64(Int32.max) else {
                throw FormatError(.invalidValue, file: file, "tensor \(label) has dimension \(dim)")
            }
            shape.append(Int(dim))
            let (product, overflow) = total.multipliedReportingOverflow(by: Int(dim))
            guard !overflow, product <= 1 << 34 else {
                throw FormatError(.invalidValue, file: file, "tensor \(label) shape \(dims) is too large")
            }
            total = product
        }
        if let packed = packedFloats, packed.count % 4 != 0 {
            throw FormatError(.invalidValue, file: file, "tensor \(label): packed float_data has \(packed.count) bytes, not a multiple of 4")
        }
        if let packed = packedDoubles, packed.count % 8 != 0 {
            throw FormatError(.invalidValue, file: file, "tensor \(label): packed double_data has \(packed.count) bytes, not a multiple of 8")
        }
        var bytes = raw
        if bytes == nil, dataType == .float, let packed = packedFloats { bytes = packed }
        if bytes == nil, dataType == .double, let packed = packedDoubles { bytes = packed }
        if bytes == nil, dataType == .double, !floats.isEmpty {
            throw FormatError(.invalidValue, file: file, "tensor \(label) is double but lists float_data")
        }
        return ONNXTensor(name: name, dims: shape, dataType: dataType, littleEndianBytes: bytes,
                          listedIntegers: integers, listedFloats: floats, file: file, owner: owner)
    }

    private static func unpackFloats(_ raw: UnsafeRawBufferPointer) -> [Float] {
        (0..<raw.count / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
    }
}

extension ONNXTensor.DataType {
    var byteWidth: Int {
        switch self {
        case .float, .int32: 4
        case .int64, .double: 8
        case .int8, .uint8: 1
        }
    }

    func decode(_ raw: UnsafeRawBufferPointer, index i: Int) -> Float {
        switch self {
        case .float: Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)))
        case .double: Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))))
        case .int32: Float(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: Int32.self)))
        case .int64: Float(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: Int64.self)))
        case .int8: Float(Int8(bitPattern: raw[i]))
        case .uint8: Float(raw[i])
        }
    }
}
