import Foundation
import QuernFormats
import QuernTensor
import QuernTestSupport
import Testing

@Suite struct ONNXReaderTests {
    /// Bytes that outlive the parse: the model's tensors point into them.
    final class Buffer {
        let raw: UnsafeMutableRawBufferPointer
        init(_ bytes: [UInt8]) {
            raw = .allocate(byteCount: max(bytes.count, 1), alignment: 16)
            raw.copyBytes(from: bytes)
            count = bytes.count
        }
        let count: Int
        deinit { raw.deallocate() }
    }

    static func parse(_ bytes: [UInt8]) throws(FormatError) -> ONNXModel {
        let buffer = Buffer(bytes)
        return try ONNXModel(bytes: UnsafeRawBufferPointer(rebasing: buffer.raw[0..<buffer.count]), path: "test.onnx", owner: buffer)
    }

    static func expectFormatError(_ bytes: [UInt8], _ code: String, mentioning text: String) {
        do {
            _ = try parse(bytes)
            Issue.record("parsed a broken model (expected \(code))")
        } catch {
            #expect(error.code == code, "\(error)")
            #expect(error.message.contains(text), "\(error.message)")
        }
    }


    @Test(arguments: [false, true])
    func readsMessagesPackedAndUnpacked(unpacked: Bool) throws {
        let model = try Self.parse(ONNXTestGraph.oneNodeModel(op: "Transpose", unpackedFloats: unpacked))
        #expect(model.irVersion == 7 && model.defaultOpset == 13)
        let node = try #require(model.graph.nodes.first)
        #expect(node.opType == "Transpose" && node.inputs == ["x"] && node.outputs == ["y"])
        #expect(node.attributes["alpha"]?.float == 1)
        #expect(node.attributes["perm"]?.ints == [0, 2, 1, 3])
        let weight = try #require(model.graph.initializers["w"])
        #expect(weight.dims == [2, 2])
        #expect(try weight.floats().scalars == [1, -2, 3.5, 0.25])
        #expect(model.graph.inputs.first?.shape == [nil, 3])
        #expect(model.graph.feeds.map(\.name) == ["x"])
    }

    @Test func readsTheOpenNSFWFile() throws {
        let model = try ONNXModel(path: ImageTestSupport.openNSFW)
        #expect(model.irVersion == 4 && model.defaultOpset == 9)
        #expect(model.graph.nodes.count == 126)
        #expect(model.graph.nodes.filter { $0.opType == "Conv" }.count == 53)
        #expect(model.graph.feeds.first?.name == "input:0" && model.graph.feeds.first?.shape == [nil, 224, 224, 3])
        let parameters = try model.graph.initializers.values.filter { $0.dataType == .float }.map { try $0.floats().count }.reduce(0, +)
        #expect(parameters == 5_891_266)
    }

    @Test func truncatedAndGarbledFilesAreFormatErrors() throws {
        let good = ONNXTestGraph.oneNodeModel(op: "Relu")
        for cut in [1, 5, good.count / 2, good.count - 3] {
            do {
                _ = try Self.parse(Array(good.prefix(cut)))
                Issue.record("a model cut at \(cut) of \(good.count) bytes parsed")
            } catch {
                #expect(error.code == "format.truncated" || error.code == "format.bad_magic", "\(error)")
            }
        }
        Self.expectFormatError([], "format.truncated", mentioning: "empty")
        Self.expectFormatError([0x08, 0x07, 0x3A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F], "format.truncated", mentioning: "graph claims")
        Self.expectFormatError([0x0B, 0x01], "format.invalid_value", mentioning: "wire type 3")
        Self.expectFormatError([0x08] + [UInt8](repeating: 0xFF, count: 10) + [0x01], "format.invalid_value", mentioning: "longer than ten bytes")
        Self.expectFormatError([0x00, 0x01], "format.invalid_value", mentioning: "field number 0")
        Self.expectFormatError([0x12, 0x02, 0x41, 0x42], "format.bad_magic", mentioning: "no ir_version")
        // ir_version as a string (wrong wire type for an int64).
        Self.expectFormatError([0x0A, 0x01, 0x41], "format.invalid_value", mentioning: "ir_version")
        // Tensor data elsewhere is refused, not read from some other path.
        var external = ProtobufWriter()
        external.int(1, 7)
        external.message(7) { g in g.message(5) { t in t.int(1, 1); t.int(2, 1); t.string(8, "w"); t.int(14, 1) } }
        Self.expectFormatError(external.bytes, "format.unsupported_type", mentioning: "external data")
    }

    @Test func wrongTensorSizesAreFormatErrors() throws {
        var w = ProtobufWriter()
        w.int(1, 7)
        w.message(7) { g in g.message(5) { t in t.int(1, 3); t.int(2, 1); t.string(8, "w"); t.bytes(9, [0, 0, 0, 0]) } }
        let model = try Self.parse(w.bytes)
        #expect(throws: FormatError.self) { try model.graph.initializers["w"]?.floats() }
        // A shape of 2^32 values over 4 stored bytes is refused before anything is allocated.
        var large = ProtobufWriter()
        large.int(1, 7)
        large.message(7) { g in g.message(5) { t in t.int(1, 1 << 16); t.int(1, 1 << 16); t.int(2, 1); t.string(8, "w"); t.bytes(9, [0, 0, 0, 0]) } }
        let largeModel = try Self.parse(large.bytes)
        #expect(throws: FormatError.self) { try largeModel.graph.initializers["w"]?.floats() }
        var huge = ProtobufWriter()
        huge.int(1, 7)
        huge.message(7) { g in g.message(5) { t in t.int(1, 1 << 30); t.int(1, 1 << 30); t.int(2, 1); t.string(8, "w") } }
        Self.expectFormatError(huge.bytes, "format.invalid_value", mentioning: "too large")
    }
}
