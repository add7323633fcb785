import Foundation
import QuernFormats
import QuernModels
import QuernTensor
import Testing

/// A minimal protobuf encoder for hand-made ONNX messages.
struct ProtobufWriter {
    var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 { bytes.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        bytes.append(UInt8(v))
    }

    mutating func key(_ field: Int, _ wire: Int) { varint(UInt64(field << 3 | wire)) }
    mutating func int(_ field: Int, _ value: Int64) { key(field, 0); varint(UInt64(bitPattern: value)) }
    mutating func bytes(_ field: Int, _ payload: [UInt8]) { key(field, 2); varint(UInt64(payload.count)); bytes += payload }
    mutating func string(_ field: Int, _ text: String) { bytes(field, Array(text.utf8)) }
    mutating func message(_ field: Int, _ build: (inout ProtobufWriter) -> Void) {
        var inner = ProtobufWriter()
        build(&inner)
        bytes(field, inner.bytes)
    }
}

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

    /// A one-node model: node `op` from x to y, with one float initializer.
    static func model(op: String, unpackedFloats: Bool = false) -> [UInt8] {
        var w = ProtobufWriter()
        w.int(1, 7)
        w.message(8) { $0.string(1, ""); $0.int(2, 13) }
        w.message(7) { g in
            g.message(1) { n in n.string(1, "x"); n.string(2, "y"); n.string(3, "only"); n.string(4, op)
                n.message(5) { a in a.string(1, "alpha"); a.key(2, 5); a.bytes += [0, 0, 0x80, 0x3F]; a.int(20, 1) }
                n.message(5) { a in a.string(1, "perm"); a.int(8, 0); a.int(8, 2); a.bytes(8, [1, 3]); a.int(20, 7) }
            }
            g.string(2, "graph")
            g.message(5) { t in
                t.int(1, 2); t.int(1, 2); t.int(2, 1); t.string(8, "w")
                let floats: [Float] = [1, -2, 3.5, 0.25]
                if unpackedFloats {
                    for f in floats { t.key(4, 5); withUnsafeBytes(of: f.bitPattern.littleEndian) { t.bytes += $0 } }
                } else {
                    t.bytes(4, floats.flatMap { f in withUnsafeBytes(of: f.bitPattern.littleEndian) { Array($0) } })
                }
            }
            g.message(11) { v in v.string(1, "x")
                v.message(2) { t in t.message(1) { tt in tt.int(1, 1); tt.message(2) { s in s.message(1) { $0.string(2, "n") }; s.message(1) { $0.int(1, 3) } } } }
            }
            g.message(12) { $0.string(1, "y") }
            g.key(99, 1); g.bytes += [1, 2, 3, 4, 5, 6, 7, 8]   // an unknown fixed64 field is skipped
        }
        return w.bytes
    }

    @Test(arguments: [false, true])
    func readsMessagesPackedAndUnpacked(unpacked: Bool) throws {
        let model = try Self.parse(Self.model(op: "Transpose", unpackedFloats: unpacked))
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
        let model = try ONNXModel(path: VisionTestPaths.openNSFW)
        #expect(model.irVersion == 4 && model.defaultOpset == 9)
        #expect(model.graph.nodes.count == 126)
        #expect(model.graph.nodes.filter { $0.opType == "Conv" }.count == 53)
        #expect(model.graph.feeds.first?.name == "input:0" && model.graph.feeds.first?.shape == [nil, 224, 224, 3])
        let parameters = try model.graph.initializers.values.filter { $0.dataType == .float }.map { try $0.floats().count }.reduce(0, +)
        #expect(parameters == 5_891_266)
    }

    @Test func truncatedAndGarbledFilesAreFormatErrors() throws {
        let good = Self.model(op: "Relu")
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

    @Test func hostileWindowsAreRefused() throws {
        let path = FileManager.default.temporaryDirectory.path + "/quern-onnx-\(getpid())-pads.onnx"
        defer { try? FileManager.default.removeItem(atPath: path) }
        for (pads, kernel) in [([40, 40, 40, 40], 1), ([0, 0, 0, 0], 4000)] {
            var w = ProtobufWriter()
            w.int(1, 7)
            w.message(7) { g in
                g.message(1) { n in n.string(1, "x"); n.string(1, "w"); n.string(2, "y"); n.string(4, "Conv")
                    n.message(5) { a in a.string(1, "pads"); for p in pads { a.int(8, Int64(p)) }; a.int(20, 7) }
                    n.message(5) { a in a.string(1, "strides"); a.int(8, Int64(kernel)); a.int(8, 1); a.int(20, 7) }
                }
                g.message(5) { t in t.int(1, 2); t.int(1, 3); t.int(1, 1); t.int(1, 1); t.int(2, 1); t.string(8, "w"); t.bytes(9, [UInt8](repeating: 0, count: 24)) }
                g.message(11) { $0.string(1, "x") }
                g.message(12) { $0.string(1, "y") }
            }
            try Data(w.bytes).write(to: URL(fileURLWithPath: path))
            do {
                _ = try ResNet.load(path: path)
                Issue.record("a convolution with pads \(pads) and stride \(kernel) loaded")
            } catch {
                #expect(error.code == "model.unsupported_architecture", "\(error)")
                #expect(error.message.contains("padding") || error.message.contains("exceed 32"), "\(error.message)")
            }
        }
    }

    @Test func unknownOperatorIsRefusedByName() throws {
        let path = FileManager.default.temporaryDirectory.path + "/quern-onnx-\(getpid())-lstm.onnx"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(Self.model(op: "LSTM")).write(to: URL(fileURLWithPath: path))
        do {
            _ = try ResNet.load(path: path)
            Issue.record("an LSTM graph loaded as a ResNet")
        } catch {
            #expect(error.code == "model.unsupported_architecture")
            #expect(error.message.contains("LSTM") && error.message.contains("only"), "\(error.message)")
        }
        // A truncated real export is a format error through the model loader too.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: VisionTestPaths.goldens + "/resnet18-tiny.onnx"))
        try bytes.prefix(bytes.count - 1000).write(to: URL(fileURLWithPath: path))
        do {
            _ = try ResNet.load(path: path)
            Issue.record("a truncated export loaded")
        } catch {
            #expect(error.code == "model.invalid_file" && error.message.hasPrefix("format.truncated"), "\(error.message)")
        }
    }
}
