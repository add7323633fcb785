import ArgumentParser
import Foundation
import QuernTensor

/// `quern bench`: the tensor core's kernels on the shapes the models use,
/// each next to this machine's measured limits.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measures Quern's kernels and models.",
        subcommands: [KernelBenchCommand.self, LanguageModelBenchCommand.self, ImageBenchCommand.self, ResNetBenchCommand.self, AudioBenchCommand.self, HeadBenchCommand.self],
        defaultSubcommand: KernelBenchCommand.self)
}

struct KernelBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernels",
        abstract: "Measures GEMM, convolution and quantised matrix-vector kernels against the machine's limits.")

    @Option(help: "Thread counts to measure, comma-separated.")
    var threads: String = "1,2"

    @Option(help: "Seconds to spend on each measurement (the best of three runs is kept).")
    var seconds: Double = 0.5

    @Option(help: "Which groups to run: limits, sgemm, conv, quant (comma-separated).")
    var only: String = "limits,sgemm,conv,quant"

    func run() throws {
        try BLAS.load()
        let threadCounts = threads.split(separator: ",").compactMap { Int($0) }.filter { $0 > 0 }
        let groups = Set(only.split(separator: ",").map(String.init))
        print("quern \(QuernVersion.string) bench — \(CPUFeatures.current.names.joined(separator: " "))")
        for count in threadCounts {
            ComputeThreads.configure(threads: count)
            print("\n== \(count) thread(s) — \(BLAS.info.kernel) kernels")
            var bench = KernelBench(seconds: seconds)
            bench.run(groups: groups)
        }
    }
}

struct KernelBench {
    let seconds: Double
    var peakGFLOPS = 0.0
    var bandwidthGBs = 0.0

    init(seconds: Double) { self.seconds = seconds }

    /// Best time per call over three runs of about `seconds / 3` each.
    func measure(_ body: () -> Void) -> Double {
        body()
        var best = Double.infinity
        for _ in 0..<3 {
            var calls = 0
            let start = DispatchTime.now().uptimeNanoseconds
            var elapsed = 0.0
            repeat {
                body()
                calls += 1
                elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            } while elapsed < seconds / 3
            best = min(best, elapsed / Double(calls))
        }
        return best
    }

    func line(_ name: String, _ value: Double, _ unit: String, of limit: Double? = nil) {
        let share = limit.map { String(format: "  %5.1f %% of limit", 100 * value / $0) } ?? ""
        print(name.padding(toLength: 44, withPad: " ", startingAt: 0) + String(format: "%9.1f %@", value, unit) + share)
    }

    mutating func run(groups: Set<String>) {
        if groups.contains("limits") || groups.contains("sgemm") || groups.contains("conv") { measurePeak() }
        if groups.contains("limits") || groups.contains("quant") { measureBandwidth() }
        if groups.contains("sgemm") { sgemm() }
        if groups.contains("conv") { convolutions() }
        if groups.contains("quant") { quantised() }
    }

    mutating func measurePeak() {
        let a = Tensor.random([2048, 2048], seed: 1), b = Tensor.random([2048, 2048], seed: 2)
        let c = Tensor(zeros: [2048, 2048])
        let time = measure { GEMM.run(MatrixView(a), MatrixView(b), into: MatrixView(c)) }
        peakGFLOPS = 2 * pow(2048, 3) / time / 1e9
        line("limit: BLAS peak (sgemm 2048³)", peakGFLOPS, "GFLOP/s")
    }

    /// A plain SIMD sum over 512 MiB: what one pass over memory costs.
    mutating func measureBandwidth() {
        let count = 1 << 27
        let data = Tensor.random([count], seed: 3)
        var sink: Float = 0
        let time = measure { sink += streamingSum(data) }
        bandwidthGBs = Double(count * 4) / time / 1e9
        line("limit: streaming read (512 MiB)", bandwidthGBs, "GB/s")
        if sink.isNaN { print("") }
    }

    func sgemm() {
        for size in [256, 512, 1024] {
            let a = Tensor.random([size, size], seed: 4), b = Tensor.random([size, size], seed: 5)
            let c = Tensor(zeros: [size, size])
            let time = measure { GEMM.run(MatrixView(a), MatrixView(b), into: MatrixView(c)) }
            line("sgemm \(size)³", 2 * pow(Double(size), 3) / time / 1e9, "GFLOP/s", of: peakGFLOPS)
        }
        // Shapes of a 512-token prompt through SmolLM2's projections.
        for (m, k, n) in [(512, 576, 1536), (512, 1536, 576)] {
            let a = Tensor.random([m, k], seed: 6), b = Tensor.random([n, k], seed: 7)
            let c = Tensor(zeros: [m, n])
            let time = measure { GEMM.run(MatrixView(a), MatrixView(b), transposeB: true, into: MatrixView(c)) }
            line("sgemm \(m)×\(k) · (\(n)×\(k))ᵀ", 2 * Double(m * n * k) / time / 1e9, "GFLOP/s", of: peakGFLOPS)
        }
    }

    /// ResNet-50's convolutions on one image, through the kernels ResNet
    /// runs: NHWC, weights prepared once, the kernel `PreparedConvolution`
    /// picks (Winograd for the stride-1 3×3 ones, direct otherwise), bias
    /// and ReLU in the epilogue. GFLOP/s count a direct convolution's
    /// multiply-adds, so a Winograd row is its effective rate and can pass
    /// the sgemm limit.
    func convolutions() {
        // The 3×3 convolution of each stage, a 1×1 expansion, a stride-2 1×1
        // projection shortcut and the 7×7 stem.
        let shapes: [(inChannels: Int, outChannels: Int, size: Int, kernel: Int, stride: Int, padding: Int)] = [
            (64, 64, 56, 3, 1, 1), (128, 128, 28, 3, 1, 1), (256, 256, 14, 3, 1, 1), (512, 512, 7, 3, 1, 1),
            (64, 256, 56, 1, 1, 0), (256, 512, 56, 1, 2, 0), (3, 64, 224, 7, 2, 3),
        ]
        for shape in shapes {
            let window = Window2D(kernel: shape.kernel, stride: shape.stride, padding: shape.padding)
            let convolution = PreparedConvolution(
                weight: Tensor.random([shape.outChannels, shape.inChannels, shape.kernel, shape.kernel], seed: 9),
                bias: Tensor.random([shape.outChannels], seed: 10), window: window)
            let input = Tensor.random([1, shape.size, shape.size, shape.inChannels], seed: 8)
            let out = window.outputSize(height: shape.size, width: shape.size)
            let time = measure { _ = convolution(input, relu: true) }
            let flops = 2.0 * Double(shape.outChannels * out.height * out.width * shape.inChannels * shape.kernel * shape.kernel)
            let kernelName = if case .winograd = convolution { "winograd" } else { "direct" }
            let stride = shape.stride > 1 ? "/\(shape.stride)" : ""
            let name = "conv \(shape.kernel)×\(shape.kernel)\(stride) \(shape.inChannels)→\(shape.outChannels) @\(shape.size)×\(shape.size) \(kernelName)"
            line(name, flops / time / 1e9, "GFLOP/s", of: peakGFLOPS)
        }
    }

    func quantised() {
        // (input, output) features of SmolLM2-135M's matrices.
        let shapes: [(Int, Int, WeightType)] = [
            (576, 1536, .q4_1), (1536, 576, .q4_1), (576, 49152, .q4_1), (576, 49152, .q8_0),
            (576, 1536, .q4_0), (576, 1536, .f16), (576, 1536, .bf16), (576, 1536, .f32),
        ]
        for (inputs, outputs, type) in shapes {
            guard let matrix = try? WeightMatrix(Tensor.random([outputs, inputs], seed: 11), as: type).interleaved() else { continue }
            let x = Tensor.random([inputs], seed: 12), y = Tensor(zeros: [outputs])
            let time = measure { matrix.multiplyVector(x, into: y) }
            let bytes = Double(matrix.rowBytes * outputs)
            line("matvec \(type.rawValue) \(inputs)→\(outputs) (\(Int(bytes) >> 10) KiB)", bytes / time / 1e9, "GB/s", of: bandwidthGBs)
        }
    }
}

/// One SIMD pass over a tensor, split over the compute threads.
func streamingSum(_ tensor: Tensor) -> Float {
    let chunks = ComputeThreads.count * 8
    var partial = [Float](repeating: 0, count: chunks)
    partial.withUnsafeMutableBufferPointer { sums in
        tensor.withPointer { p in
            let per = tensor.count / chunks
            parallelFor(chunks) { range in
                for chunk in range {
                    var acc0 = SIMD16<Float>(), acc1 = SIMD16<Float>()
                    var i = chunk * per
                    let end = i + per
                    while i + 32 <= end {
                        acc0 += UnsafeRawPointer(p + i).loadUnaligned(as: SIMD16<Float>.self)
                        acc1 += UnsafeRawPointer(p + i + 16).loadUnaligned(as: SIMD16<Float>.self)
                        i += 32
                    }
                    sums[chunk] = (acc0 + acc1).sum()
                }
            }
        }
    }
    return partial.reduce(0, +)
}
