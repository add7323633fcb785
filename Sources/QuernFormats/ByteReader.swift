import QuernTensor

/// A cursor over a memory-mapped file that reads little-endian values and
/// never steps outside the file: each read checks the bytes that remain and
/// throws a `FormatError` naming what was being read.
public struct ByteReader {
    public let file: MappedFile
    public private(set) var offset: Int

    public init(file: MappedFile, offset: Int = 0) {
        self.file = file
        self.offset = offset
    }

    public var remaining: Int { file.size - offset }

    /// The next `count` bytes, advancing past them.
    public mutating func bytes(_ count: Int, _ what: @autoclosure () -> String) throws(FormatError) -> UnsafeRawBufferPointer {
        guard count >= 0, count <= remaining else {
            throw FormatError(.truncated, file: file.path, "\(what()) needs \(count) bytes at offset \(offset), the file has \(max(0, remaining)) left")
        }
        let region: UnsafeRawBufferPointer
        do { region = try file.bytes(at: offset, count: count, what: what()) } catch { throw FormatError(error, file: file.path) }
        offset += count
        return region
    }

    public mutating func read<T: FixedWidthInteger>(_ type: T.Type, _ what: @autoclosure () -> String) throws(FormatError) -> T {
        let raw = try bytes(MemoryLayout<T>.size, what())
        return T(littleEndian: raw.loadUnaligned(as: T.self))
    }

    public mutating func readFloat(_ what: @autoclosure () -> String) throws(FormatError) -> Float {
        Float(bitPattern: try read(UInt32.self, what()))
    }

    public mutating func readDouble(_ what: @autoclosure () -> String) throws(FormatError) -> Double {
        Double(bitPattern: try read(UInt64.self, what()))
    }

    /// `count` bytes decoded as UTF-8; invalid UTF-8 is an error.
    public mutating func readString(count: Int, _ what: @autoclosure () -> String) throws(FormatError) -> String {
        let raw = try bytes(count, what())
        guard let text = String(validating: raw, as: UTF8.self) else {
            throw FormatError(.invalidValue, file: file.path, "\(what()) is not valid UTF-8")
        }
        return text
    }

    /// Moves to an absolute offset inside the file.
    public mutating func seek(to position: Int, _ what: @autoclosure () -> String) throws(FormatError) {
        guard position >= 0, position <= file.size else {
            throw FormatError(.truncated, file: file.path, "\(what()) at offset \(position) lies outside the file of \(file.size) bytes")
        }
        offset = position
    }
}
