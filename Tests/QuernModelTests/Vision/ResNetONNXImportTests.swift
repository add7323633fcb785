import Foundation
import QuernFormats
import QuernModels
import QuernTestSupport
import Testing

/// The ResNet importer on hand-made ONNX graphs it must refuse: windows
/// whose padding or stride would explode the work, operators it does not
/// run, and a truncated real export.
@Suite struct ResNetONNXImportTests {
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
        try Data(ONNXTestGraph.oneNodeModel(op: "LSTM")).write(to: URL(fileURLWithPath: path))
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
