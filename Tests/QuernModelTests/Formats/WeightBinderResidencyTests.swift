import Foundation
import QuernFormats
import QuernModels
import QuernTestSupport
import Testing

/// A tensor bound as a float32 copy no longer keeps its mapped checkpoint
/// pages resident (the weights would be in memory twice), while a tensor
/// used in place stays readable; the copy holds the stored values.
@Suite struct WeightBinderResidencyTests {
    typealias W = SafetensorsWriter

    /// Resident kB of this process's mappings of `path` (/proc/self/smaps).
    private func residentKilobytes(of path: String) throws -> Int {
        // Read to the end: /proc files report a size of 0.
        let handle = try #require(FileHandle(forReadingAtPath: "/proc/self/smaps"))
        defer { try? handle.close() }
        let smaps = String(decoding: try #require(try handle.readToEnd()), as: UTF8.self)
        var total = 0, inside = false
        for line in smaps.split(separator: "\n") {
            if let first = line.split(separator: " ").first, first.contains("-"), !first.hasSuffix(":") {
                inside = line.hasSuffix(path)
            } else if inside, line.hasPrefix("Rss:") {
                total += Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) ?? 0
            }
        }
        return total
    }

    @Test func aCopiedTensorsPagesAreReleasedAndItsValuesKept() throws {
        let copiedValues = (0..<(1 << 20)).map { Float($0 % 977) * 0.5 }  // 4 MB
        let mappedValues = (0..<(1 << 16)).map { Float($0 % 13) }  // 256 kB, used in place
        let path = try W.temporaryFile(W.file([
            .init(name: "copied", dtype: "F32", shape: [1024, 1024], bytes: W.floats(copiedValues)),
            .init(name: "mapped", dtype: "F32", shape: [256, 256], bytes: W.floats(mappedValues)),
        ]))
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let file = try SafetensorsFile(path: path)
        let binder = WeightBinder(file: path, tensors: file.tensors)
        // Touch every stored byte, as a load that reads the file does.
        var sum = 0
        for tensor in file.tensors { for byte in tensor.bytes { sum &+= Int(byte) } }
        #expect(sum != 0)
        let before = try residentKilobytes(of: path)
        #expect(before >= 4096, "\(before) kB of \(path) resident")

        let copy = try binder.tensor("copied", shape: [1024, 1024])
        let matrix = try binder.matrix("mapped", shape: [256, 256])
        try binder.finish()
        // At most the in-place tensor's pages and the pages shared at the boundaries.
        #expect(try residentKilobytes(of: path) <= 256 + 16)
        #expect(copy.scalars == copiedValues)
        #expect(matrix.dequantized().scalars == mappedValues)
    }
}
