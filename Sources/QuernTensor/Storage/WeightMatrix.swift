import CQuernKernels

/// A [rows, columns] weight matrix in any `WeightType`, usually pointing
/// straight into a memory-mapped checkpoint. Rows are stored one after the
/// other, each a whole number of blocks, as in GGUF and safetensors.
///
/// Products never dequantise the whole matrix: a vector product expands each
/// block in registers, and a batched product dequantises a tile of rows at a
/// time into a scratch buffer for `sgemm`.
public struct WeightMatrix: @unchecked Sendable {
    /// How rows are arranged in memory.
    public enum Layout: Sendable {
        /// One row after another, as checkpoints store them.
        case rows
        /// Groups of 16 rows repacked for the vector kernels (see
        /// `InterleavedKernels`); the last `rows % 16` rows follow in row layout.
        case interleaved16
    }

    public let type: WeightType
    public let rows: Int
    public let columns: Int
    public let rowBytes: Int
    public let layout: Layout
    let base: UnsafeRawPointer?
    /// Keeps the bytes alive: a `MappedFile`, or the buffer this type owns.
    let owner: AnyObject?

    /// A matrix over `bytes`, which `owner` keeps alive. The byte count must
    /// be exactly what the type and shape need.
    public init(type: WeightType, rows: Int, columns: Int, bytes: UnsafeRawBufferPointer, owner: AnyObject?) throws(TensorError) {
        _ = try elementCount(of: [rows, columns])
        let rowBytes = try type.rowBytes(columns: columns)
        let (needed, overflow) = rows.multipliedReportingOverflow(by: rowBytes)
        guard !overflow, bytes.count == needed else {
            throw .byteCountMismatch(what: "\(type.rawValue) matrix \(rows)x\(columns)", expected: overflow ? Int.max : needed, actual: bytes.count)
        }
        self.type = type
        self.rows = rows
        self.columns = columns
        self.rowBytes = rowBytes
        self.base = bytes.baseAddress
        self.owner = owner
        self.layout = .rows
    }

    private init(interleaving source: WeightMatrix) {
        let groups = source.rows / InterleavedKernels.groupRows
        let blocks = source.columns / source.type.blockValues
        let groupBytes = InterleavedKernels.groupBlockBytes(source.type) * blocks
        let buffer = OwnedBytes(count: source.rows * source.rowBytes)
        parallelFor(groups, grain: 4) { range in
            for g in range {
                InterleavedKernels.pack(source.type, rows: source.rowPointer(g * InterleavedKernels.groupRows), rowBytes: source.rowBytes,
                                        blocks: blocks, into: buffer.base + g * groupBytes)
            }
        }
        let tailRows = source.rows - groups * InterleavedKernels.groupRows
        if tailRows > 0 {
            (buffer.base + groups * groupBytes).copyMemory(from: source.rowPointer(groups * InterleavedKernels.groupRows), byteCount: tailRows * source.rowBytes)
        }
        type = source.type
        rows = source.rows
        columns = source.columns
        rowBytes = source.rowBytes
        base = UnsafeRawPointer(buffer.base)
        owner = buffer
        layout = .interleaved16
    }

    /// This matrix repacked for fast matrix-vector products (a copy the size
    /// of the weights), or itself when repacking does not apply (float types,
    /// fewer than 16 rows, or already repacked).
    ///
    /// With `releasingSource`, pages of a memory-mapped source are dropped
    /// from memory afterwards, so the weights are not resident twice.
    public func interleaved(releasingSource: Bool = false) -> WeightMatrix {
        guard layout == .rows, type.isQuantized, rows >= InterleavedKernels.groupRows, columns > 0 else { return self }
        let packed = WeightMatrix(interleaving: self)
        if releasingSource, let file = owner as? MappedFile {
            file.release(UnsafeRawBufferPointer(start: base, count: rows * rowBytes))
        }
        return packed
    }

    private var interleavedGroups: Int { layout == .interleaved16 ? rows / InterleavedKernels.groupRows : 0 }
    private var groupBytes: Int { InterleavedKernels.groupBlockBytes(type) * (columns / type.blockValues) }

    /// Calls `body` with row `r` in row layout (unpacked into `scratch`, of
    /// at least `rowBytes` bytes, when the matrix is interleaved).
    @inline(__always)
    func withRowBytes<R>(_ r: Int, scratch: UnsafeMutableRawPointer, _ body: (UnsafeRawPointer) -> R) -> R {
        let groups = interleavedGroups
        let grouped = groups * InterleavedKernels.groupRows
        if r < grouped {
            let g = r / InterleavedKernels.groupRows
            InterleavedKernels.unpackRow(type, group: base! + g * groupBytes, row: r % InterleavedKernels.groupRows,
                                         blocks: columns / type.blockValues, into: scratch)
            return body(UnsafeRawPointer(scratch))
        }
        return body(base! + groups * groupBytes + (r - grouped) * rowBytes)
    }

    /// Writes row `r` as floats to `out`.
    func dequantizeRow(_ r: Int, into out: UnsafeMutablePointer<Float>, scratch: UnsafeMutableRawPointer) {
        withRowBytes(r, scratch: scratch) { BlockKernels.dequantize(type, row: $0, columns: columns, into: out) }
    }

    /// Converts a 2-D float tensor to `type` (quantising with ggml's
    /// reference rounding), in memory this matrix owns.
    public init(_ tensor: Tensor, as type: WeightType = .f32) throws(TensorError) {
        guard tensor.rank == 2 else { throw .invalidShape(tensor.shape, reason: "a weight matrix is 2-D") }
        let rows = tensor.shape[0], columns = tensor.shape[1]
        let rowBytes = try type.rowBytes(columns: columns)
        let buffer = OwnedBytes(count: rows * rowBytes)
        tensor.withPointer { values in
            for r in 0..<rows {
                Quantizer.quantize(type, values + r * columns, columns: columns, into: buffer.base + r * rowBytes)
            }
        }
        try self.init(type: type, rows: rows, columns: columns,
                      bytes: UnsafeRawBufferPointer(start: buffer.base, count: rows * rowBytes), owner: buffer)
    }

    /// Row `r` of a row-layout matrix.
    @inline(__always)
    func rowPointer(_ r: Int) -> UnsafeRawPointer { base! + r * rowBytes }

    /// The stored bytes of row `r`, in row layout whatever the matrix layout.
    public func rowBytes(_ r: Int) -> [UInt8] {
        precondition(r >= 0 && r < rows)
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: max(rowBytes, 1), alignment: 64)
        defer { scratch.deallocate() }
        return withRowBytes(r, scratch: scratch) { Array(UnsafeRawBufferPointer(start: $0, count: rowBytes)) }
    }

    /// Rows `range` as floats into `out` (row-major, `columns` apart), in
    /// parallel; whole interleaved groups are expanded in one pass.
    func dequantizeRows(_ range: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        let groups = interleavedGroups
        let typeCode: Int32 = type == .q4_0 ? 0 : type == .q4_1 ? 1 : 2
        let units = (range.count + 15) / 16
        parallelFor(units, grain: 1) { chunk in
            let scratch = UnsafeMutableRawPointer.allocate(byteCount: max(rowBytes, 1), alignment: 64)
            defer { scratch.deallocate() }
            for unit in chunk {
                let first = range.lowerBound + unit * 16, end = min(range.upperBound, first + 16)
                let g = first / InterleavedKernels.groupRows
                if first % InterleavedKernels.groupRows == 0 && g < groups && end - first == InterleavedKernels.groupRows {
                    quern_group_dequantize(typeCode, (base! + g * groupBytes).assumingMemoryBound(to: UInt8.self),
                                           Int32(columns / 32), out + (first - range.lowerBound) * columns, columns)
                } else {
                    for r in first..<end { dequantizeRow(r, into: out + (r - range.lowerBound) * columns, scratch: scratch) }
                }
            }
        }
    }

    /// The whole matrix as Float32.
    public func dequantized() -> Tensor {
        let out = Tensor(zeros: [rows, columns])
        guard rows > 0, columns > 0 else { return out }
        out.withMutablePointer { o in dequantizeRows(0..<rows, into: o) }
        return out
    }

    /// Rows `ids` as a [ids.count, columns] tensor: an embedding lookup.
    public func gatherRows(_ ids: [Int]) throws(TensorError) -> Tensor {
        for id in ids where id < 0 || id >= rows { throw .indexOutOfRange(index: id, count: rows, what: "row") }
        let out = Tensor(zeros: [ids.count, columns])
        guard columns > 0 else { return out }
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: rowBytes, alignment: 64)
        defer { scratch.deallocate() }
        out.withMutablePointer { o in
            for (i, id) in ids.enumerated() { dequantizeRow(id, into: o + i * columns, scratch: scratch) }
        }
        return out
    }

    /// y = W · x for a vector x of `columns` values; y has `rows` values.
    public func multiply(vector x: Tensor) -> Tensor {
        precondition(x.count == columns, "W[\(rows)x\(columns)] · x needs \(columns) values, got \(x.count)")
        let y = Tensor(zeros: [rows])
        multiplyVector(x, into: y)
        return y
    }

    /// y = W · x into an existing tensor of `rows` values.
    public func multiplyVector(_ x: Tensor, into y: Tensor) {
        precondition(x.count == columns && y.count == rows, "W[\(rows)x\(columns)] · x: x has \(x.count), y has \(y.count)")
        guard rows > 0 else { return }
        guard columns > 0 else {
            y.withMutablePointer { $0.update(repeating: 0, count: rows) }
            return
        }
        let blocks = type.isQuantized ? columns / 32 : 0
        let sums = UnsafeMutablePointer<Float>.allocate(capacity: max(blocks, 1))
        defer { sums.deallocate() }
        x.withPointer { px in
            for b in 0..<blocks {
                let v = BlockKernels.load16(px + 32 * b) + BlockKernels.load16(px + 32 * b + 16)
                sums[b] = v.sum()
            }
            y.withMutablePointer { py in
                let type = self.type, columns = self.columns
                let groups = interleavedGroups
                let tailStart = groups * InterleavedKernels.groupRows
                let tail = base! + groups * groupBytes
                let blockCount = columns / type.blockValues
                if groups > 0 {
                    let groupBytes = self.groupBytes
                    parallelFor(groups, grain: max(1, 32_768 / groupBytes)) { range in
                        for g in range {
                            let group = (base! + g * groupBytes).assumingMemoryBound(to: UInt8.self)
                            let out = py + g * InterleavedKernels.groupRows
                            switch type {
                            case .q4_1: quern_group_dot_q4_1(group, px, sums, Int32(blockCount), out)
                            case .q4_0: quern_group_dot_q4_0(group, px, sums, Int32(blockCount), out)
                            default: quern_group_dot_q8_0(group, px, Int32(blockCount), out)
                            }
                        }
                    }
                }
                // ~32 KiB of weights per chunk keeps scheduling overhead small.
                parallelFor(rows - tailStart, grain: max(1, 32_768 / max(rowBytes, 1))) { range in
                    for r in range {
                        py[tailStart + r] = BlockKernels.dot(type, row: tail + r * rowBytes, x: px, blockSums: sums, columns: columns)
                    }
                }
            }
        }
    }

    /// Y = X · Wᵀ for X [n, columns], row by row: row i of Y is bit for bit
    /// what `multiply(vector:)` gives for row i of X, whatever n is. For
    /// decoding several sequences together, one token each: a few rows are
    /// too few for sgemm on dequantised tiles to pay, but one pass of the
    /// vector kernels over the (quantised, interleaved) weights can serve
    /// them all, and a sequence's tokens do not depend on its batch-mates.
    public func multiply(eachRowOf x: Tensor) -> Tensor {
        precondition(x.rank == 2 && x.shape[1] == columns, "X\(x.shape) · W[\(rows)x\(columns)]ᵀ: inner dimensions differ")
        let n = x.shape[0]
        let y = Tensor(zeros: [n, rows])
        if n == 0 || rows == 0 { return y }
        guard layout == .interleaved16, columns > 0 else {
            for i in 0..<n { multiplyVector(x.row(i), into: y.row(i)) }
            return y
        }
        let blocks = columns / 32
        let sums = UnsafeMutablePointer<Float>.allocate(capacity: max(n * blocks, 1))
        defer { sums.deallocate() }
        x.withPointer { px in
            // Block sums exactly as `multiplyVector` computes them.
            for i in 0..<n {
                for b in 0..<blocks {
                    let v = BlockKernels.load16(px + i * columns + 32 * b) + BlockKernels.load16(px + i * columns + 32 * b + 16)
                    sums[i * blocks + b] = v.sum()
                }
            }
            y.withMutablePointer { py in
                let type = self.type, columns = self.columns, rows = self.rows
                let typeCode: Int32 = type == .q4_0 ? 0 : type == .q4_1 ? 1 : 2
                let groups = interleavedGroups, groupBytes = self.groupBytes
                let tailStart = groups * InterleavedKernels.groupRows
                let tail = base! + groups * groupBytes
                if groups > 0 {
                    parallelFor(groups, grain: max(1, 32_768 / groupBytes)) { range in
                        for g in range {
                            quern_group_dot_multi(typeCode, (base! + g * groupBytes).assumingMemoryBound(to: UInt8.self), px, columns,
                                                  sums, blocks, Int32(n), Int32(blocks), py + g * InterleavedKernels.groupRows, rows)
                        }
                    }
                }
                parallelFor(rows - tailStart, grain: max(1, 32_768 / max(rowBytes, 1))) { range in
                    for r in range {
                        for i in 0..<n {
                            py[i * rows + tailStart + r] = BlockKernels.dot(type, row: tail + r * rowBytes, x: px + i * columns,
                                                                            blockSums: sums + i * blocks, columns: columns)
                        }
                    }
                }
            }
        }
        return y
    }

    /// Y = X · Wᵀ for X of shape [n, columns]; Y is [n, rows] (a linear layer
    /// without bias). One row of X uses the vector kernels; more use sgemm on
    /// the dequantised weights, a tile of rows at a time.
    public func multiply(_ x: Tensor) -> Tensor {
        precondition(x.rank == 2 && x.shape[1] == columns, "X\(x.shape) · W[\(rows)x\(columns)]ᵀ: inner dimensions differ")
        let n = x.shape[0]
        let y = Tensor(zeros: [n, rows])
        if n == 0 || rows == 0 { return y }
        if n == 1 {
            multiplyVector(x.reshaped([columns]), into: y.reshaped([rows]))
            return y
        }
        if type == .f32 && layout == .rows {
            let weights = Tensor(storage: TensorStorage(borrowing: UnsafeMutablePointer(mutating: base!.assumingMemoryBound(to: Float.self)), count: rows * columns, owner: owner), offset: 0, shape: [rows, columns])
            GEMM.run(MatrixView(x), MatrixView(weights), transposeB: true, into: MatrixView(y))
            return y
        }
        // Tiles of ~1 MiB of floats stay in L2 while sgemm streams X past them
        // (a whole number of 16-row groups for the interleaved layout).
        let tileRows = max(16, min(rows, (1 << 18) / max(columns, 1)) / 16 * 16)
        let tile = Tensor(zeros: [tileRows, columns])
        var start = 0
        while start < rows {
            let count = min(tileRows, rows - start)
            tile.withMutablePointer { t in dequantizeRows(start..<start + count, into: t) }
            GEMM.run(MatrixView(x), MatrixView(tile, rows: count, columns: columns), transposeB: true,
                     into: MatrixView(y, offset: start, rows: n, columns: count, rowStride: rows))
            start += count
        }
        return y
    }
}

/// Heap bytes owned by a `WeightMatrix` built from floats.
final class OwnedBytes {
    let base: UnsafeMutableRawPointer
    init(count: Int) {
        base = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 64)
        base.initializeMemory(as: UInt8.self, repeating: 0, count: max(count, 1))
    }
    deinit { base.deallocate() }
}
