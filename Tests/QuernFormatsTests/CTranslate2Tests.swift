import Foundation
import QuernFormats
import Testing

/// CTranslate2 `model.bin` reader: a well-formed file's variables, options
/// and aliases, and every kind of hostile file refused with a FormatError
/// that names the problem.
@Suite("CTranslate2 model.bin reader")
struct CTranslate2Tests {
    /// Builds a binary-v6 file byte by byte.
    struct Writer {
        var bytes: [UInt8] = []
        mutating func u8(_ value: UInt8) { bytes.append(value) }
        mutating func u16(_ value: UInt16) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
        mutating func u32(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
        mutating func string(_ text: String) {
            u16(UInt16(text.utf8.count + 1))
            bytes += Array(text.utf8) + [0]
        }
        mutating func variable(_ name: String, dims: [UInt32], dtype: UInt8, data: [UInt8]) {
            string(name)
            u8(UInt8(dims.count))
            for dim in dims { u32(dim) }
            u8(dtype)
            u32(UInt32(data.count))
            bytes += data
        }
    }

    static func floats(_ values: [Float]) -> [UInt8] { values.flatMap { value in withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) } } }

    /// A small valid file: an odd-length name first so the data is unaligned.
    static func valid(aliasTarget: String = "decoder/embeddings/weight", trailing: [UInt8] = []) -> [UInt8] {
        var w = Writer()
        w.u32(6)
        w.string("WhisperSpec")
        w.u32(3)
        w.u32(4)
        w.variable("decoder/num_heads", dims: [], dtype: 2, data: [6, 0])
        w.variable("decoder/embeddings/weight", dims: [2, 3], dtype: 0, data: floats([1, 2, 3, 4, 5, 6]))
        w.variable("encoder/half", dims: [2], dtype: 4, data: [0x00, 0x3c, 0x00, 0xc0])  // 1.0, -2.0 in float16
        w.variable("decoder/pre_norm", dims: [], dtype: 1, data: [1])
        w.u32(1)
        w.string("decoder/projection/weight")
        w.string(aliasTarget)
        w.bytes += trailing
        return w.bytes
    }

    static func write(_ bytes: [UInt8]) throws -> String {
        let path = NSTemporaryDirectory() + "quern-ct2-\(UUID().uuidString).bin"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func refusal(_ bytes: [UInt8]) throws -> FormatError? {
        let path = try write(bytes)
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try CTranslate2Model(path: path)
            return nil
        } catch {
            return error
        }
    }

    @Test func readsVariablesOptionsAndAliases() throws {
        let path = try Self.write(Self.valid())
        defer { try? FileManager.default.removeItem(atPath: path) }
        let model = try CTranslate2Model(path: path)
        #expect(model.specName == "WhisperSpec" && model.specRevision == 3)
        #expect(model.tensors.map(\.name) == ["decoder/embeddings/weight", "encoder/half"])
        #expect(model.integerOption("decoder/num_heads") == 6 && model.integerOption("decoder/pre_norm") == 1)
        #expect(model.integerOption("missing") == nil)
        #expect(model.aliases == ["decoder/projection/weight": "decoder/embeddings/weight"])
        let projection = try #require(model.tensor(named: "decoder/projection/weight"))
        #expect(projection.name == "decoder/embeddings/weight" && projection.shape == [2, 3] && projection.element == .f32)
        let values = try projection.floats(file: path)
        #expect(values.scalars == [1, 2, 3, 4, 5, 6])
        let half = try #require(model.tensor(named: "encoder/half")).floats(file: path)
        #expect(half.scalars == [1, -2])
    }

    @Test func refusesHostileFiles() throws {
        var valid = Self.valid()
        // Every truncation is an error, never a crash.
        for length in stride(from: 0, to: valid.count, by: 7) {
            let error = try Self.refusal(Array(valid[0..<length]))
            #expect(error != nil, "a file cut at \(length) bytes was accepted")
        }
        // Wrong version.
        valid[0] = 5
        #expect(try Self.refusal(valid)?.kind == .unsupportedVersion)

        // Unknown dtype, byte count that disagrees with the shape, too many dimensions.
        func file(_ build: (inout Writer) -> Void) -> [UInt8] {
            var w = Writer()
            w.u32(6)
            w.string("WhisperSpec")
            w.u32(3)
            build(&w)
            return w.bytes
        }
        let badType = file { w in w.u32(1); w.variable("x", dims: [1], dtype: 9, data: [0, 0, 0, 0]); w.u32(0) }
        #expect(try Self.refusal(badType)?.kind == .unsupportedType)
        let badCount = file { w in w.u32(1); w.variable("x", dims: [2], dtype: 0, data: [0, 0, 0, 0]); w.u32(0) }
        #expect(try Self.refusal(badCount)?.message.contains("declares 4 bytes") == true)
        let deep = file { w in w.u32(1); w.variable("x", dims: Array(repeating: 1, count: 9), dtype: 0, data: [0, 0, 0, 0]); w.u32(0) }
        #expect(try Self.refusal(deep)?.message.contains("rank 9") == true)
        let overflow = file { w in w.u32(1); w.variable("x", dims: [UInt32.max, UInt32.max, UInt32.max], dtype: 0, data: []); w.u32(0) }
        #expect(try Self.refusal(overflow) != nil)
        let duplicate = file { w in
            w.u32(2)
            w.variable("x", dims: [1], dtype: 0, data: [0, 0, 0, 0])
            w.variable("x", dims: [1], dtype: 0, data: [0, 0, 0, 0])
            w.u32(0)
        }
        #expect(try Self.refusal(duplicate)?.message.contains("appears twice") == true)
        let hugeCount = file { w in w.u32(UInt32.max) }
        #expect(try Self.refusal(hugeCount)?.kind == .truncated)
        // A string without its NUL, and an empty string length.
        var noNul = Writer()
        noNul.u32(6)
        noNul.u16(3)
        noNul.bytes += Array("abc".utf8)
        #expect(try Self.refusal(noNul.bytes)?.message.contains("NUL") == true)
        var empty = Writer()
        empty.u32(6)
        empty.u16(0)
        #expect(try Self.refusal(empty.bytes)?.message.contains("length 0") == true)
        // Aliases to nothing, and bytes after the alias table.
        #expect(try Self.refusal(Self.valid(aliasTarget: "nowhere"))?.message.contains("not a variable") == true)
        #expect(try Self.refusal(Self.valid(trailing: [0]))?.message.contains("after the alias table") == true)
    }
}
