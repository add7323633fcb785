import Foundation

/// A minimal protobuf encoder for hand-made ONNX messages.
public struct ProtobufWriter {
    public var bytes: [UInt8] = []

    public init() {}

    public mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 { bytes.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        bytes.append(UInt8(v))
    }

    public mutating func key(_ field: Int, _ wire: Int) { varint(UInt64(field << 3 | wire)) }
    public mutating func int(_ field: Int, _ value: Int64) { key(field, 0); varint(UInt64(bitPattern: value)) }
    public mutating func bytes(_ field: Int, _ payload: [UInt8]) { key(field, 2); varint(UInt64(payload.count)); bytes += payload }
    public mutating func string(_ field: Int, _ text: String) { bytes(field, Array(text.utf8)) }
    public mutating func message(_ field: Int, _ build: (inout ProtobufWriter) -> Void) {
        var inner = ProtobufWriter()
        build(&inner)
        bytes(field, inner.bytes)
    }
}

/// Hand-made ONNX files for the reader and model-import tests.
public enum ONNXTestGraph {
    /// A one-node model: node `op` from x to y, with one float initializer.
    public static func oneNodeModel(op: String, unpackedFloats: Bool = false) -> [UInt8] {
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
}
