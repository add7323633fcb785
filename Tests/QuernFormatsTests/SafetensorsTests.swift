import Foundation
import QuernFormats
import QuernTensor
import QuernTestSupport
import Testing

/// The safetensors reader on good files and on hostile ones: every broken
/// file is an error naming the problem, never a crash or a wild read.
@Suite struct SafetensorsTests {
    typealias W = SafetensorsWriter

    func open(_ bytes: [UInt8]) throws -> SafetensorsFile { try SafetensorsFile(path: W.temporaryFile(bytes)) }

    /// The error a broken file raises (nil when it opened).
    func failure(_ bytes: [UInt8]) throws -> FormatError? {
        do {
            _ = try open(bytes)
            return nil
        } catch let error as FormatError {
            return error
        }
    }

    func expectFailure(_ bytes: [UInt8], _ kind: FormatError.Kind, mentioning words: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let error = try failure(bytes)
        #expect(error?.kind == kind, "got \(String(describing: error))", sourceLocation: sourceLocation)
        for word in words {
            #expect(error?.message.contains(word) == true, "\(String(describing: error?.message)) should mention \(word)", sourceLocation: sourceLocation)
        }
    }

    let weight = W.Entry(name: "w", dtype: "F32", shape: [2, 3], bytes: W.floats([1, 2, 3, 4, 5, 6]))

    @Test func readsEveryFloatTypeAndSkippableIntegers() throws {
        let half = [Float16(1.5), Float16(-2)].flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }
        let brain = [Float(0.75), -3].flatMap { withUnsafeBytes(of: UInt16($0.bitPattern >> 16).littleEndian, Array.init) }
        let ids = [Int64(0), 1, 2].flatMap { withUnsafeBytes(of: $0.littleEndian, Array.init) }
        let file = try open(W.file([
            weight, W.Entry(name: "h", dtype: "F16", shape: [2], bytes: half), W.Entry(name: "b", dtype: "BF16", shape: [2], bytes: brain),
            W.Entry(name: "position_ids", dtype: "I64", shape: [1, 3], bytes: ids), W.Entry(name: "empty", dtype: "F32", shape: [0, 4], bytes: []),
        ], metadata: ["format": "pt"]))
        #expect(file.metadata == ["format": "pt"])
        #expect(file.tensors.map(\.name) == ["w", "h", "b", "position_ids", "empty"])
        #expect(file.tensors[3].element == .i64 && file.tensors[3].shape == [1, 3])
        #expect(try file.tensors[0].floats(file: file.path).scalars == [1, 2, 3, 4, 5, 6])
        #expect(file.tensors[0].shape == [2, 3])
        #expect(try file.tensors[1].floats(file: file.path).scalars == [1.5, -2])
        #expect(try file.tensors[2].floats(file: file.path).scalars == [0.75, -3])
        #expect(throws: FormatError.self) { try file.tensors[3].floats(file: file.path) }  // not a float tensor
    }

    @Test func truncatedFilesAndHeaders() throws {
        try expectFailure([1, 2, 3], .truncated, mentioning: ["8-byte header length"])
        var bytes = W.file([weight])
        bytes.replaceSubrange(0..<8, with: withUnsafeBytes(of: UInt64(bytes.count).littleEndian, Array.init))
        try expectFailure(bytes, .truncated, mentioning: ["header length"])
        bytes.replaceSubrange(0..<8, with: withUnsafeBytes(of: UInt64.max.littleEndian, Array.init))
        try expectFailure(bytes, .invalidValue, mentioning: ["exceeds the limit"])
        // Data cut short: the last tensor runs past the end.
        try expectFailure(Array(W.file([weight]).dropLast(4)), .truncated, mentioning: ["tensor w", "run past"])
    }

    @Test func badJSON() throws {
        for header in ["{\"w\": {", "[1, 2]", "{\"w\": {\"dtype\": \"F32\"} } trailing", "{\"a\": 1, \"a\": 2}", "\u{1}{}", "{\"w\": \"\u{1}\"}"] {
            let error = try failure(W.file([], header: header))
            #expect(error?.kind == .invalidValue, "\(header): \(String(describing: error))")
        }
        let deep = String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)
        #expect(try failure(W.file([], header: "{\"x\": \(deep)}"))?.message.contains("nesting deeper") == true)
        try expectFailure(W.file([], header: "{\"__metadata__\": {\"format\": 3}}"), .invalidValue, mentioning: ["__metadata__.format"])
    }

    @Test func badEntries() throws {
        let data = W.floats([1, 2, 3, 4, 5, 6])
        func header(_ entry: String) -> [UInt8] { W.file([W.Entry(name: "w", dtype: "F32", shape: [2, 3], bytes: data)], header: "{\"w\": \(entry)}") }
        try expectFailure(header("{\"dtype\": \"F32\", \"shape\": [2, 3], \"data_offsets\": [0, 20]}"), .invalidValue, mentioning: ["tensor w", "needs 24 bytes"])
        try expectFailure(header("{\"dtype\": \"F32\", \"shape\": [2, -3], \"data_offsets\": [0, 24]}"), .invalidValue, mentioning: ["non-negative"])
        try expectFailure(header("{\"dtype\": \"F32\", \"shape\": [2, 3.5], \"data_offsets\": [0, 24]}"), .invalidValue, mentioning: ["non-negative integer"])
        try expectFailure(header("{\"dtype\": \"F32\", \"shape\": [4611686018427387904, 4], \"data_offsets\": [0, 24]}"), .invalidValue, mentioning: ["overflows"])
        try expectFailure(header("{\"dtype\": \"F32\", \"shape\": [2, 3], \"data_offsets\": [24, 0]}"), .invalidValue, mentioning: ["not an ordered range"])
        try expectFailure(header("{\"dtype\": \"F32\", \"shape\": [2, 3], \"data_offsets\": [0, 48]}"), .truncated, mentioning: ["run past"])
        try expectFailure(header("{\"dtype\": \"F32\", \"shape\": [2, 3], \"data_offsets\": [0]}"), .invalidValue, mentioning: ["two integers"])
        try expectFailure(header("{\"dtype\": \"Q9\", \"shape\": [2, 3], \"data_offsets\": [0, 24]}"), .invalidValue, mentioning: ["unknown dtype"])
        try expectFailure(header("{\"dtype\": \"U16\", \"shape\": [2, 3], \"data_offsets\": [0, 12]}"), .unsupportedType, mentioning: ["U16"])
        try expectFailure(header("{\"dtype\": \"F32\", \"shape\": [2, 3], \"data_offsets\": [0, 24], \"extra\": 1}"), .invalidValue, mentioning: ["unknown field"])
        try expectFailure(header("[]"), .invalidValue, mentioning: ["must be an object"])
    }

    @Test func overlapsGapsAndTrailingBytes() throws {
        let data = W.floats([1, 2, 3, 4])
        let two = [W.Entry(name: "a", dtype: "F32", shape: [2], bytes: Array(data[0..<8])), W.Entry(name: "b", dtype: "F32", shape: [2], bytes: Array(data[8..<16]))]
        let overlap = "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}, \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}"
        try expectFailure(W.file(two, header: overlap), .invalidValue, mentioning: ["overlaps"])
        let gap = "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}, \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [8, 16]}}"
        try expectFailure(W.file(two, header: gap), .invalidValue, mentioning: ["unused bytes before tensor b"])
        try expectFailure(W.file(two, trailing: [0, 0, 0, 0]), .invalidValue, mentioning: ["cover 16 bytes", "holds 20"])
        let same = "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}, \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}}"
        try expectFailure(W.file(two, header: same), .invalidValue, mentioning: ["overlaps"])
    }

    @Test func shardedCheckpoints() throws {
        let folder = try W.folder()
        try W.write(W.file([weight]), to: folder + "/model-00001-of-00002.safetensors")
        try W.write(W.file([W.Entry(name: "v", dtype: "F32", shape: [1], bytes: W.floats([7]))]), to: folder + "/model-00002-of-00002.safetensors")
        func index(_ map: String) throws {
            try Data("{\"metadata\": {\"total_size\": 28}, \"weight_map\": {\(map)}}".utf8).write(to: URL(fileURLWithPath: folder + "/model.safetensors.index.json"))
        }
        try index("\"w\": \"model-00001-of-00002.safetensors\", \"v\": \"model-00002-of-00002.safetensors\"")
        let checkpoint = try SafetensorsCheckpoint(directory: folder)
        #expect(checkpoint.files.count == 2 && Set(checkpoint.tensors.map(\.name)) == ["w", "v"])
        #expect(checkpoint.path.hasSuffix("model.safetensors.index.json"))

        func indexFailure(_ map: String) throws -> FormatError? {
            try index(map)
            do throws(FormatError) { _ = try SafetensorsCheckpoint(directory: folder) } catch { return error }
            return nil
        }
        #expect(try indexFailure("\"w\": \"../elsewhere/model.safetensors\", \"v\": \"model-00002-of-00002.safetensors\"")?.message.contains("not a file name") == true)
        #expect(try indexFailure("\"v\": \"model-00001-of-00002.safetensors\"")?.message.contains("does not list it") == true)
        #expect(try indexFailure("\"w\": \"model-00001-of-00002.safetensors\", \"v\": \"model-00001-of-00002.safetensors\"")?.kind == .missingTensor)
        #expect(try indexFailure("\"w\": \"model-00001-of-00002.safetensors\", \"v\": \"missing.safetensors\"")?.kind == .io)
        try FileManager.default.removeItem(atPath: folder + "/model.safetensors.index.json")
        #expect(throws: FormatError.self) { try SafetensorsCheckpoint(directory: folder) }
    }
}
