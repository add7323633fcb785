/// The 16-row interleaved layout of quantised weights for matrix-vector
/// products (the kernels themselves are in CQuernKernels).
///
/// In GGUF's row layout each 32-value block is reduced to one number with a
/// horizontal sum and its scale applied with a broadcast — half the
/// instructions go to bookkeeping. Interleaving 16 rows puts one row in each
/// SIMD lane instead: for every column j the 16 rows' weights form one
/// vector, multiplied by the broadcast x[j], and the per-block scales of the
/// 16 rows are one vector too. The repacked group holds exactly the bytes of
/// its 16 rows, reordered:
///
/// - q4_1 group block (320 bytes): d[16] f16, m[16] f16, then for j in 0..<16
///   the 16 rows' byte j of `qs` (low nibble = value j, high = value j + 16);
/// - q4_0 (288 bytes): d[16] f16, then the transposed `qs` as above;
/// - q8_0 (544 bytes): d[16] f16, then for j in 0..<32 the 16 rows' int8 q[j].
enum InterleavedKernels {
    static let groupRows = 16

    /// Bytes of one 16-row group for one block column.
    static func groupBlockBytes(_ type: WeightType) -> Int { type.blockBytes * groupRows }

    /// Repacks 16 consecutive rows (row layout, `rowBytes` apart) into `out`.
    static func pack(_ type: WeightType, rows: UnsafeRawPointer, rowBytes: Int, blocks: Int, into out: UnsafeMutableRawPointer) {
        let groupBytes = groupBlockBytes(type)
        let headerBytes = type == .q4_1 ? 64 : 32
        let valueBytes = type == .q8_0 ? 32 : 16
        let qsOffset = type == .q4_1 ? 4 : 2
        for b in 0..<blocks {
            let target = out + b * groupBytes
            for r in 0..<groupRows {
                let block = rows + r * rowBytes + b * type.blockBytes
                target.storeBytes(of: block.loadUnaligned(as: UInt16.self), toByteOffset: 2 * r, as: UInt16.self)
                if type == .q4_1 {
                    target.storeBytes(of: (block + 2).loadUnaligned(as: UInt16.self), toByteOffset: 32 + 2 * r, as: UInt16.self)
                }
                for j in 0..<valueBytes {
                    target.storeBytes(of: (block + qsOffset + j).load(as: UInt8.self), toByteOffset: headerBytes + j * groupRows + r, as: UInt8.self)
                }
            }
        }
    }

    /// The inverse of `pack` for one row: writes row `r` of a group in row layout.
    static func unpackRow(_ type: WeightType, group: UnsafeRawPointer, row r: Int, blocks: Int, into out: UnsafeMutableRawPointer) {
        let groupBytes = groupBlockBytes(type)
        let headerBytes = type == .q4_1 ? 64 : 32
        let valueBytes = type == .q8_0 ? 32 : 16
        let qsOffset = type == .q4_1 ? 4 : 2
        for b in 0..<blocks {
            let source = group + b * groupBytes
            let block = out + b * type.blockBytes
            block.storeBytes(of: (source + 2 * r).loadUnaligned(as: UInt16.self), as: UInt16.self)
            if type == .q4_1 {
                block.storeBytes(of: (source + 32 + 2 * r).loadUnaligned(as: UInt16.self), toByteOffset: 2, as: UInt16.self)
            }
            for j in 0..<valueBytes {
                block.storeBytes(of: (source + headerBytes + j * groupRows + r).load(as: UInt8.self), toByteOffset: qsOffset + j, as: UInt8.self)
            }
        }
    }
}
