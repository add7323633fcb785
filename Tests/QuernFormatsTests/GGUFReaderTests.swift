import Foundation
import QuernFormats
import QuernTestSupport
import Testing

/// The GGUF reader on every metadata value type and on hostile files: each
/// broken file is an error naming the problem, never a crash or a wild read.
@Suite struct GGUFReaderTests {
    func temporaryPath(_ name: String) -> String {
        NSTemporaryDirectory() + "quern-gguf-\(getpid())-\(name)-\(UUID().uuidString).gguf"
    }

    @Test func nestedArraysAndEveryValueType() throws {
        var writer = GGUFWriter()
        writer.add("a.u8", .raw(type: 0, bytes: [200]))
        writer.add("a.i8", .raw(type: 1, bytes: [0xFF]))
        writer.add("a.u16", .raw(type: 2, bytes: [0x34, 0x12]))
        writer.add("a.i16", .raw(type: 3, bytes: [0xFE, 0xFF]))
        writer.add("a.i64", .raw(type: 11, bytes: [0xFD, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]))
        writer.add("a.f64", .raw(type: 12, bytes: Array(withUnsafeBytes(of: (2.5).bitPattern.littleEndian) { Array($0) })))
        writer.add("a.bool", .bool(true))
        // An array of two arrays of u32: [[1, 2], [3]].
        var nested: [UInt8] = []
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { nested += $0 } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { nested += $0 } }
        u32(9); u64(2); u32(4); u64(2); u32(1); u32(2); u32(4); u64(1); u32(3)
        writer.add("a.nested", .raw(type: 9, bytes: nested))
        writer.add("general.alignment", .u32(64))
        writer.alignment = 64
        writer.addFloat32("w", shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        let path = temporaryPath("types")
        try writer.write(to: path)
        defer { unlink(path) }
        let gguf = try GGUFFile(path: path)
        #expect(gguf.metadata["a.u8"] == .unsigned(200) && gguf.metadata["a.i8"] == .signed(-1))
        #expect(gguf.metadata["a.u16"] == .unsigned(0x1234) && gguf.metadata["a.i16"] == .signed(-2))
        #expect(gguf.metadata["a.i64"] == .signed(-3) && gguf.metadata["a.f64"] == .float(2.5) && gguf.metadata["a.bool"] == .bool(true))
        #expect(gguf.metadata["a.nested"] == .array([.array([.unsigned(1), .unsigned(2)]), .array([.unsigned(3)])]))
        #expect(gguf.alignment == 64 && gguf.tensors[0].shape == [2, 3])
        #expect(try gguf.tensors[0].floats(file: path).scalars == [1, 2, 3, 4, 5, 6])
    }

    /// Hostile files: each is refused with an error naming the problem.
    @Test func hostileFilesAreRefusedWithClearErrors() throws {
        func check(_ name: String, _ kind: FormatError.Kind, contains text: String, _ bytes: [UInt8]) throws {
            let path = temporaryPath(name)
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            defer { unlink(path) }
            #expect { try GGUFFile(path: path) } throws: { error in
                guard let error = error as? FormatError else { return false }
                return error.kind == kind && error.message.contains(text)
            }
        }
        var good = GGUFWriter()
        good.add("general.architecture", .string("llama"))
        good.addFloat32("w", shape: [4, 8], values: [Float](repeating: 1, count: 32))
        let valid = good.encoded()

        try check("empty", .truncated, contains: "magic", [])
        try check("magic", .badMagic, contains: "not a GGUF", Array("GGML".utf8) + valid.dropFirst(4))
        var version = good
        version.version = 1
        try check("version", .unsupportedVersion, contains: "version 1", version.encoded())
        try check("truncated-data", .truncated, contains: "runs past the end", Array(valid.dropLast(40)))
        try check("truncated-header", .truncated, contains: "general.architecture", Array(valid.prefix(60)))
        // Tensor count claiming more entries than the file could hold.
        var counts = valid
        counts.replaceSubrange(8..<16, with: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0])
        try check("counts", .invalidValue, contains: "more than the file can hold", counts)
        // A string length beyond the file.
        var length = valid
        length.replaceSubrange(24..<32, with: [0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0])
        try check("string", .truncated, contains: "claims", length)
        var quantised = GGUFWriter()
        quantised.tensors.append(.init(name: "k", shape: [1, 256], type: 12, data: [UInt8](repeating: 0, count: 144)))
        try check("type", .unsupportedType, contains: "Q4_K", quantised.encoded())
        var misaligned = GGUFWriter()
        misaligned.tensors.append(.init(name: "q", shape: [1, 31], type: 8, data: [UInt8](repeating: 0, count: 34)))
        try check("blocks", .invalidValue, contains: "whole number", misaligned.encoded())
        var duplicate = good
        duplicate.add("general.architecture", .string("gpt2"))
        try check("duplicate", .invalidValue, contains: "appears twice", duplicate.encoded())
        var alignment = good
        alignment.add("general.alignment", .u32(3))
        try check("alignment", .invalidValue, contains: "power of two", alignment.encoded())
    }
}
