/// A reader of the protocol-buffers wire format over bytes that stay owned
/// by someone else (a mapped file). Every varint, length and fixed-width
/// value is checked against the end of the enclosing message; a message that
/// claims more bytes than it has, a varint longer than ten bytes or an
/// unknown wire type is a `FormatError` that says where and what.
///
/// Only what ONNX needs: varints (no zigzag: ONNX uses no sint fields),
/// fixed32/fixed64, length-delimited fields (strings, bytes, nested messages,
/// packed repeated scalars); groups (wire types 3/4, unused by proto3 and
/// ONNX) are refused.
struct ProtobufReader {
    enum WireType: UInt8 {
        case varint = 0, fixed64 = 1, lengthDelimited = 2, fixed32 = 5
    }

    struct Field {
        let number: Int
        let wireType: WireType
    }

    let bytes: UnsafeRawBufferPointer
    let file: String
    /// Which message this reader walks, for error messages.
    let context: String
    private(set) var position: Int
    let end: Int

    init(bytes: UnsafeRawBufferPointer, file: String, context: String) {
        self.bytes = bytes
        self.file = file
        self.context = context
        self.position = 0
        self.end = bytes.count
    }

    private init(parent: ProtobufReader, start: Int, end: Int, context: String) {
        self.bytes = parent.bytes
        self.file = parent.file
        self.context = context
        self.position = start
        self.end = end
    }

    var isAtEnd: Bool { position >= end }

    private func truncated(_ what: String) -> FormatError {
        FormatError(.truncated, file: file, "\(context): \(what) runs past the end of its message at byte \(position)")
    }

    func invalid(_ what: String) -> FormatError {
        FormatError(.invalidValue, file: file, "\(context): \(what)")
    }

    /// The next field's key, or nil at the end of the message.
    mutating func nextField() throws(FormatError) -> Field? {
        if isAtEnd { return nil }
        let keyPosition = position
        let key = try readVarint("field key")
        let number = key >> 3
        guard number >= 1, number <= (1 << 29) - 1 else {
            throw invalid("field number \(number) at byte \(keyPosition) is out of range")
        }
        guard let wireType = WireType(rawValue: UInt8(key & 7)) else {
            throw invalid("field \(number) at byte \(keyPosition) has unsupported wire type \(key & 7)")
        }
        return Field(number: Int(number), wireType: wireType)
    }

    mutating func readVarint(_ what: String) throws(FormatError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end else { throw truncated(what) }
            let byte = bytes[position]
            position += 1
            guard shift < 64 else { throw invalid("\(what) is a varint longer than ten bytes") }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
    }

    mutating func readFixed32(_ what: String) throws(FormatError) -> UInt32 {
        guard end - position >= 4 else { throw truncated(what) }
        let value = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self))
        position += 4
        return value
    }

    mutating func readFixed64(_ what: String) throws(FormatError) -> UInt64 {
        guard end - position >= 8 else { throw truncated(what) }
        let value = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt64.self))
        position += 8
        return value
    }

    /// The byte range of a length-delimited field's payload.
    private mutating func readPayloadRange(_ what: String) throws(FormatError) -> Range<Int> {
        let length = try readVarint("length of \(what)")
        guard length <= UInt64(end - position) else {
            throw FormatError(.truncated, file: file,
                              "\(context): \(what) claims \(length) bytes at byte \(position), only \(end - position) remain in its message")
        }
        let start = position
        position += Int(length)
        return start..<position
    }

    /// The bytes of a length-delimited field.
    mutating func readLengthDelimited(_ what: String) throws(FormatError) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[try readPayloadRange(what)])
    }

    /// A reader over an embedded message.
    mutating func readMessage(_ what: String) throws(FormatError) -> ProtobufReader {
        let range = try readPayloadRange(what)
        return ProtobufReader(parent: self, start: range.lowerBound, end: range.upperBound, context: "\(context) > \(what)")
    }

    mutating func readString(_ what: String) throws(FormatError) -> String {
        let raw = try readLengthDelimited(what)
        guard let text = String(validating: raw, as: UTF8.self) else { throw invalid("\(what) is not valid UTF-8") }
        return text
    }

    /// An int64 field (two's complement in a varint).
    mutating func readInt64(_ field: Field, _ what: String) throws(FormatError) -> Int64 {
        guard field.wireType == .varint else { throw wrongType(field, what) }
        return Int64(bitPattern: try readVarint(what))
    }

    /// An int32/enum field: a varint whose value must fit 32 bits (negative
    /// values are sign-extended to 64 bits on the wire).
    mutating func readInt32(_ field: Field, _ what: String) throws(FormatError) -> Int32 {
        let value = try readInt64(field, what)
        guard let narrow = Int32(exactly: value) else { throw invalid("\(what) = \(value) does not fit 32 bits") }
        return narrow
    }

    mutating func readFloat(_ field: Field, _ what: String) throws(FormatError) -> Float {
        guard field.wireType == .fixed32 else { throw wrongType(field, what) }
        return Float(bitPattern: try readFixed32(what))
    }

    /// One element, or a packed run, of a repeated int64/int32 field.
    mutating func readRepeatedInt64(_ field: Field, _ what: String, into values: inout [Int64]) throws(FormatError) {
        switch field.wireType {
        case .varint:
            values.append(Int64(bitPattern: try readVarint(what)))
        case .lengthDelimited:
            var packed = try readMessage(what)
            while !packed.isAtEnd { values.append(Int64(bitPattern: try packed.readVarint(what))) }
        default:
            throw wrongType(field, what)
        }
    }

    /// One element, or a packed run, of a repeated float field.
    mutating func readRepeatedFloat(_ field: Field, _ what: String, into values: inout [Float]) throws(FormatError) {
        switch field.wireType {
        case .fixed32:
            values.append(Float(bitPattern: try readFixed32(what)))
        case .lengthDelimited:
            let raw = try readLengthDelimited(what)
            guard raw.count % 4 == 0 else { throw invalid("packed \(what) has \(raw.count) bytes, not a multiple of 4") }
            for index in 0..<raw.count / 4 {
                values.append(Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self))))
            }
        default:
            throw wrongType(field, what)
        }
    }

    /// Skips a field this reader does not interpret.
    mutating func skip(_ field: Field) throws(FormatError) {
        switch field.wireType {
        case .varint: _ = try readVarint("field \(field.number)")
        case .fixed64: _ = try readFixed64("field \(field.number)")
        case .fixed32: _ = try readFixed32("field \(field.number)")
        case .lengthDelimited: _ = try readLengthDelimited("field \(field.number)")
        }
    }

    func wrongType(_ field: Field, _ what: String) -> FormatError {
        invalid("\(what) (field \(field.number)) has wire type \(field.wireType.rawValue), which does not fit its declared type")
    }
}
