import CQuernBLAS
import CQuernKernels

/// What the BLAS layer runs on, for logs, `quern bench` and results.
public struct BLASInfo: Sendable, CustomStringConvertible {
    /// The kernel family OpenBLAS selected (`openblas_get_corename`).
    public var kernel: String
    /// The OPENBLAS_CORETYPE in force, and whether the user set it.
    public var coretype: String
    public var coretypeFromUser: Bool
    public var library: String
    public var configuration: String
    public var threads: Int

    public var description: String {
        let origin = coretype.isEmpty ? "OpenBLAS's own detection" : (coretypeFromUser ? "OPENBLAS_CORETYPE=\(coretype) (user)" : "OPENBLAS_CORETYPE=\(coretype) (chosen by Quern from CPUID)")
        return "OpenBLAS \(library): kernel \(kernel) via \(origin), \(threads) thread(s); \(configuration)"
    }
}

/// The OpenBLAS library, loaded at run time with kernels chosen for this CPU.
public enum BLAS {
    /// Loads OpenBLAS (once). Call this early: a failure is an installation
    /// problem the user must fix, reported as an error rather than a crash.
    @discardableResult
    public static func load() throws(TensorError) -> BLASInfo {
        guard quern_blas_load() == 0 else {
            throw .blasUnavailable(String(cString: quern_blas_error()))
        }
        return info
    }

    public static var info: BLASInfo {
        BLASInfo(
            kernel: String(cString: quern_blas_corename()),
            coretype: String(cString: quern_blas_coretype()),
            coretypeFromUser: quern_blas_coretype_from_user() != 0,
            library: String(cString: quern_blas_library_path()),
            configuration: String(cString: quern_blas_config()),
            threads: Int(quern_blas_threads()))
    }

    /// OpenBLAS's thread count. Use `ComputeThreads.configure` instead, which
    /// keeps BLAS and Quern's own loops on the same budget.
    static func setThreads(_ count: Int) { quern_blas_set_threads(Int32(count)) }
}

/// A row-major matrix inside a tensor's storage: `rows` × `columns` values,
/// row r starting at `offset + r * rowStride`. Strides let a GEMM read one
/// attention head out of a [T, heads * dim] tensor without copying.
public struct MatrixView {
    public var tensor: Tensor
    public var offset: Int
    public var rows: Int
    public var columns: Int
    public var rowStride: Int

    public init(_ tensor: Tensor, offset: Int = 0, rows: Int, columns: Int, rowStride: Int? = nil) {
        let stride = rowStride ?? max(columns, 1)
        precondition(rows >= 0 && columns >= 0 && offset >= 0 && stride >= max(columns, 1), "invalid matrix view: \(rows)x\(columns) stride \(stride)")
        precondition(rows == 0 || columns == 0 || offset + (rows - 1) * stride + columns <= tensor.count,
                     "matrix view \(rows)x\(columns)+\(offset) (stride \(stride)) exceeds tensor of \(tensor.count)")
        self.tensor = tensor
        self.offset = offset
        self.rows = rows
        self.columns = columns
        self.rowStride = stride
    }

    /// The whole of a 2-D tensor.
    public init(_ tensor: Tensor) {
        precondition(tensor.rank == 2, "MatrixView(tensor) needs a 2-D tensor, got \(tensor.shape)")
        self.init(tensor, rows: tensor.shape[0], columns: tensor.shape[1])
    }
}

public enum GEMM {
    /// C = alpha · op(A) · op(B) + beta · C, through `cblas_sgemm`, where op
    /// transposes when asked. Shapes are checked here, at the edge of the
    /// unsafe code.
    public static func run(
        _ a: MatrixView, transposeA: Bool = false, _ b: MatrixView, transposeB: Bool = false,
        into c: MatrixView, alpha: Float = 1, beta: Float = 0
    ) {
        let m = transposeA ? a.columns : a.rows
        let k = transposeA ? a.rows : a.columns
        let kb = transposeB ? b.columns : b.rows
        let n = transposeB ? b.rows : b.columns
        precondition(k == kb, "GEMM inner dimensions differ: \(k) vs \(kb)")
        precondition(c.rows == m && c.columns == n, "GEMM output is \(c.rows)x\(c.columns), expected \(m)x\(n)")
        if m == 0 || n == 0 { return }
        if k == 0 {
            c.tensor.withMutablePointer { pc in
                for r in 0..<m {
                    let row = pc + c.offset + r * c.rowStride
                    for j in 0..<n { row[j] = beta == 0 ? 0 : row[j] * beta }
                }
            }
            return
        }
        a.tensor.withPointer { pa in
            b.tensor.withPointer { pb in
                c.tensor.withMutablePointer { pc in
                    quern_sgemm(
                        transposeA ? 1 : 0, transposeB ? 1 : 0, Int32(m), Int32(n), Int32(k), alpha,
                        pa + a.offset, Int32(a.rowStride), pb + b.offset, Int32(b.rowStride), beta,
                        pc + c.offset, Int32(c.rowStride))
                }
            }
        }
    }

    /// y = alpha · op(A) · x + beta · y through `cblas_sgemv`.
    public static func matrixVector(
        _ a: MatrixView, transpose: Bool = false, x: Tensor, into y: Tensor, alpha: Float = 1, beta: Float = 0
    ) {
        let outCount = transpose ? a.columns : a.rows
        let inCount = transpose ? a.rows : a.columns
        precondition(x.count == inCount && y.count == outCount,
                     "GEMV of \(a.rows)x\(a.columns) (transpose \(transpose)) needs x of \(inCount) and y of \(outCount), got \(x.count) and \(y.count)")
        if outCount == 0 { return }
        if inCount == 0 {
            y.withMutablePointer { py in for i in 0..<outCount { py[i] = beta == 0 ? 0 : py[i] * beta } }
            return
        }
        a.tensor.withPointer { pa in
            x.withPointer { px in
                y.withMutablePointer { py in
                    quern_sgemv(
                        transpose ? 1 : 0, Int32(a.rows), Int32(a.columns), alpha, pa + a.offset,
                        Int32(a.rowStride), px, 1, beta, py, 1)
                }
            }
        }
    }
}

/// The CPU's SIMD features that the OS enabled, as CPUID reports them.
public struct CPUFeatures: Sendable {
    public let bits: UInt32

    public static let current = CPUFeatures(bits: quern_cpu_features())

    public var names: [String] {
        let table: [(UInt32, String)] = [
            (UInt32(QUERN_CPU_AVX), "avx"), (UInt32(QUERN_CPU_AVX2), "avx2"), (UInt32(QUERN_CPU_FMA), "fma"),
            (UInt32(QUERN_CPU_F16C), "f16c"), (UInt32(QUERN_CPU_AVX512F), "avx512f"), (UInt32(QUERN_CPU_AVX512BW), "avx512bw"),
            (UInt32(QUERN_CPU_AVX512DQ), "avx512dq"), (UInt32(QUERN_CPU_AVX512VL), "avx512vl"), (UInt32(QUERN_CPU_AVX512CD), "avx512cd"),
            (UInt32(QUERN_CPU_AVX512BF16), "avx512_bf16"), (UInt32(QUERN_CPU_AVX512VNNI), "avx512_vnni"),
        ]
        return table.filter { bits & $0.0 != 0 }.map(\.1)
    }

    /// The OPENBLAS_CORETYPE Quern picks for these features, if any.
    public static var preferredBLASCoretype: String? {
        quern_blas_preferred_coretype().map { String(cString: $0) }
    }
}

/// The quantised matrix-vector kernels in use.
public enum QuantKernels {
    /// "avx512", "avx2" or "scalar".
    public static var variant: String { String(cString: quern_kernels_variant()) }

    /// Forces a narrower implementation ("avx2", "scalar", or "auto"), for
    /// tests and comparisons. Returns false when this CPU cannot run it.
    @discardableResult
    public static func force(_ name: String) -> Bool { quern_kernels_force_variant(name) == 0 }
}
