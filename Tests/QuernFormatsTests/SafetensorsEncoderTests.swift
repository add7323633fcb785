import Foundation
import QuernFormats
import QuernTensor
import QuernTestSupport
import Testing

/// The safetensors writer: what it writes, the reader reads back exactly,
/// and the Python reference's layout rules hold (tiling, 8-byte alignment);
/// the atomic file and folder writes leave the old or the new, never a mix.
@Suite struct SafetensorsEncoderTests {
    @Test func writtenTensorsReadBackBitForBit() throws {
        let folder = try SafetensorsWriter.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/t.safetensors"
        let weight: [Float] = [1, -2.5, .leastNonzeroMagnitude, 3e38, -0.0, 0.1]
        try SafetensorsEncoder.write([
            SafetensorsEncoder.Entry(name: "layers.0.weight", shape: [2, 3], values: weight),
            SafetensorsEncoder.Entry(name: "layers.0.bias", tensor: Tensor(vector: [7, 8])),
            SafetensorsEncoder.Entry(name: "empty", shape: [0, 5], values: []),
            SafetensorsEncoder.Entry(name: "scalar", shape: [], values: [42]),
        ], metadata: [("format", "quern-head"), ("note", "a \"quoted\" value")], to: path)

        let file = try SafetensorsFile(path: path)
        #expect(file.metadata == ["format": "quern-head", "note": "a \"quoted\" value"])
        #expect(file.tensors.map(\.name) == ["layers.0.weight", "layers.0.bias", "empty", "scalar"], "in the order given")
        #expect(file.tensors.allSatisfy { $0.element == .f32 })
        let read = try file.tensors[0].floats(file: path)
        #expect(read.shape == [2, 3])
        #expect(read.scalars.map(\.bitPattern) == weight.map(\.bitPattern))
        #expect(try file.tensors[1].floats(file: path).scalars == [7, 8])
        #expect(file.tensors[3].shape == [])
        #expect(try file.tensors[3].floats(file: path).scalars == [42])

        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let headerLength = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect((8 + headerLength) % 8 == 0, "the data starts on an 8-byte boundary")
        #expect(bytes.count == 8 + headerLength + 4 * (6 + 2 + 0 + 1))
        #expect(!FileManager.default.fileExists(atPath: folder + "/.t.safetensors.tmp"), "no temporary file is left")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["t.safetensors"])
    }

    @Test func refusesWhatCannotBeWritten() {
        let path = "/nonexistent/x.safetensors"
        for (entries, fragment) in [
            ([SafetensorsEncoder.Entry(name: "w", shape: [2, 2], values: [1, 2, 3])], "shape [2, 2] but 3 values"),
            ([SafetensorsEncoder.Entry(name: "w", shape: [1], values: [1]), SafetensorsEncoder.Entry(name: "w", shape: [1], values: [2])], "used twice"),
            ([SafetensorsEncoder.Entry(name: "__metadata__", shape: [1], values: [1])], "reserved"),
            ([SafetensorsEncoder.Entry(name: "w", shape: [-1], values: [])], "invalid shape"),
        ] {
            let error = thrownError(FormatError.self) { _ = try SafetensorsEncoder.encode(entries, path: path) }
            #expect(error?.message.contains(fragment) == true, "\(String(describing: error))")
        }
        let unwritable = thrownError(FormatError.self) {
            try SafetensorsEncoder.write([SafetensorsEncoder.Entry(name: "w", shape: [1], values: [1])], to: path)
        }
        #expect(unwritable?.kind == .io)
    }

    @Test func atomicFileReplacesAndLeavesNoTemporary() throws {
        let folder = try SafetensorsWriter.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/cache.bin"
        try AtomicFile.write(Array("old".utf8), to: path)
        try AtomicFile.write(Array("new contents".utf8), to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "new contents")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["cache.bin"])
        // A symlink in the way is replaced, never written through.
        let target = folder + "/target"
        try Data("keep".utf8).write(to: URL(fileURLWithPath: target))
        try FileManager.default.createSymbolicLink(atPath: folder + "/link", withDestinationPath: target)
        try AtomicFile.write(Array("x".utf8), to: folder + "/link")
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "keep")
    }

    @Test func atomicFolderInstallsAndReplacesWhole() throws {
        let root = try SafetensorsWriter.folder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let folder = root + "/heads/sentiment"
        try AtomicFolder.install([("a.txt", Array("1".utf8)), ("b.txt", Array("2".utf8))], as: folder)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == ["a.txt", "b.txt"])
        // A second install replaces the whole folder: b.txt goes.
        try AtomicFolder.install([("a.txt", Array("3".utf8))], as: folder)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["a.txt"])
        #expect(try String(contentsOfFile: folder + "/a.txt", encoding: .utf8) == "3")
        // A dead writer's leftovers are cleared by the next install; nothing else is left.
        try FileManager.default.createDirectory(atPath: root + "/heads/.sentiment.tmp-999999999-1", withIntermediateDirectories: true)
        try AtomicFolder.install([("a.txt", Array("4".utf8))], as: folder)
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/heads") == ["sentiment"])
        #expect(thrownError(FormatError.self) { try AtomicFolder.install([], as: root + "/heads/..") } != nil)
    }
}
