import QuernTensor
import Testing

@Suite struct TensorTests {
    @Test func valuesMustFillTheShape() throws {
        #expect(throws: TensorError.countMismatch(shape: [2, 3], expected: 6, actual: 5)) {
            try Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5])
        }
        #expect(throws: TensorError.self) { try Tensor(shape: [-1, 3], values: []) }
        #expect(throws: TensorError.self) { try elementCount(of: [Int.max, 3]) }
        let t = try Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        #expect(t.scalars == [1, 2, 3, 4, 5, 6])
    }

    @Test func emptyAndScalarShapes() throws {
        let empty = Tensor(zeros: [0, 7])
        #expect(empty.count == 0 && empty.scalars.isEmpty)
        let scalar = try Tensor(shape: [], values: [42])
        #expect(scalar.count == 1 && scalar[flat: 0] == 42)
        #expect(empty.reshaped([7, 0]).shape == [7, 0])
    }

    @Test func viewsShareStorageAndCopiesDoNot() throws {
        let t = try Tensor(shape: [3, 2], values: [0, 1, 2, 3, 4, 5])
        let middle = t.rows(1..<2)
        #expect(middle.shape == [1, 2] && middle.scalars == [2, 3])
        middle[flat: 0] = 20
        #expect(t[flat: 2] == 20)
        let row = t.row(2)
        #expect(row.shape == [2] && row.scalars == [4, 5])
        let copy = t.copy()
        copy[flat: 0] = 99
        #expect(t[flat: 0] == 0)
        #expect(t.reshaped([-1]).shape == [6])
        #expect(t.reshaped([2, -1]).shape == [2, 3])
    }

    @Test func halfAndBFloat16Conversions() {
        #expect(HalfFloat.float(fromHalf: 0x3C00) == 1)
        #expect(HalfFloat.float(fromHalf: 0xC000) == -2)
        #expect(HalfFloat.float(fromHalf: 0x3800) == 0.5)
        #expect(HalfFloat.float(fromHalf: 0x0001) == Float(5.960_464_5e-8))
        #expect(HalfFloat.float(fromHalf: 0x7C00) == .infinity)
        #expect(HalfFloat.float(fromBFloat16: 0x3F80) == 1)
        #expect(HalfFloat.float(fromBFloat16: 0xC0A0) == -5)
        // Round to nearest even, as PyTorch converts.
        #expect(HalfFloat.bfloat16(from: Float(bitPattern: 0x3F80_8000)) == 0x3F80)
        #expect(HalfFloat.bfloat16(from: Float(bitPattern: 0x3F81_8000)) == 0x3F82)
        #expect(HalfFloat.bfloat16(from: Float(bitPattern: 0x3F80_8001)) == 0x3F81)
        #expect(HalfFloat.float(fromBFloat16: HalfFloat.bfloat16(from: .nan)).isNaN)
    }

    @Test(arguments: [1, 2])
    func parallelForVisitsEveryIndexOnce(threads: Int) {
        ComputeThreads.configure(threads: threads)
        defer { ComputeThreads.configure(threads: nil) }
        for (count, grain) in [(0, 1), (1, 1), (7, 3), (1000, 1), (1000, 64), (12_345, 100)] {
            let visits = Tensor(zeros: [max(count, 1)])
            visits.withMutablePointer { p in
                parallelFor(count, grain: grain) { range in
                    for i in range { p[i] += 1 }
                }
            }
            #expect(visits.scalars.prefix(count).allSatisfy { $0 == 1 }, "count \(count) grain \(grain)")
        }
    }

    @Test func nestedParallelForRunsInline() {
        let total = Tensor(zeros: [64])
        total.withMutablePointer { p in
            parallelFor(8) { outer in
                for i in outer {
                    parallelFor(8) { inner in
                        for j in inner { p[i * 8 + j] += 1 }
                    }
                }
            }
        }
        #expect(total.scalars.allSatisfy { $0 == 1 })
    }

    @Test func mappedFileChecksEveryRange() throws {
        let path = "/tmp/quern-mapped-\(getpid()).bin"
        let bytes: [UInt8] = Array(0..<100)
        #expect(FileManagerShim.write(bytes, to: path))
        defer { FileManagerShim.remove(path) }
        let file = try MappedFile(path: path)
        #expect(file.size == 100)
        let slice = try file.bytes(at: 10, count: 5, what: "test")
        #expect(Array(slice) == [10, 11, 12, 13, 14])
        #expect(throws: TensorError.self) { try file.bytes(at: 96, count: 5, what: "test") }
        #expect(throws: TensorError.self) { try file.bytes(at: -1, count: 1, what: "test") }
        #expect(throws: TensorError.self) { try file.bytes(at: 1, count: Int.max, what: "test") }
        #expect(throws: TensorError.self) { try MappedFile(path: "/nonexistent/quern") }
    }

    @Test func blasLoadsWithKernelsForThisCPU() throws {
        let info = try BLAS.load()
        #expect(!info.kernel.isEmpty && info.kernel != "unavailable")
        // Unless the user chose, an AVX-512 or AVX2 CPU must not run the SSE3 fallback.
        if !info.coretypeFromUser, let preferred = CPUFeatures.preferredBLASCoretype {
            #expect(info.coretype == preferred)
            #expect(!info.kernel.lowercased().contains("prescott"), "OpenBLAS runs \(info.kernel)")
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif

enum FileManagerShim {
    static func write(_ bytes: [UInt8], to path: String) -> Bool {
        guard let file = fopen(path, "wb") else { return false }
        defer { fclose(file) }
        return fwrite(bytes, 1, bytes.count, file) == bytes.count
    }

    static func remove(_ path: String) { unlink(path) }
}
