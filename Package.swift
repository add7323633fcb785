// swift-tools-version:6.0
import Foundation
import PackageDescription

// Kernels are compiled for the CPU that builds them, as llama.cpp does by
// default (GGML_NATIVE): Swift has no per-function target attributes for
// run-time dispatch, and the SIMD kernels need AVX2/FMA/F16C (or AVX-512) to
// be fast. Set QUERN_TARGET_CPU (e.g. `x86-64-v3`, `haswell`, `x86-64`) to
// build a binary for other machines: scripts/build-portable.sh does, and the
// binary checks at start-up that the CPU has what it was compiled for
// (CQuernCPUCheck).
let targetCPU = ProcessInfo.processInfo.environment["QUERN_TARGET_CPU"] ?? "native"
// swiftc's -target-cpu knows CPU names but not the x86-64-v2/v3/v4 levels;
// those go to the Clang importer's -march, which sets the Swift code's
// target CPU and features too (the IR says "target-cpu"="x86-64-v3").
let targetCPUFlags = targetCPU.hasPrefix("x86-64-v") ? ["-Xcc", "-march=\(targetCPU)"] : ["-target-cpu", targetCPU]
// The raised LLVM inline threshold matters: without it the standard
// library's SIMD widening conversions (UInt8 lanes → UInt32 lanes) stay
// out-of-line calls and the quantised kernels run ~6x slower.
let kernelFlags: [SwiftSetting] = [
    .unsafeFlags(targetCPUFlags + ["-enforce-exclusivity=unchecked", "-Xllvm", "-inline-threshold=1000"])
]

let package = Package(
    name: "Quern",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "quern", targets: ["quern"]),
        // Libraries for packages that build on the layers (the fuzz targets in Fuzz/).
        .library(name: "QuernJSON", targets: ["QuernJSON"]),
        .library(name: "QuernFormats", targets: ["QuernFormats"]),
        .library(name: "QuernTokenizers", targets: ["QuernTokenizers"]),
        .library(name: "QuernModels", targets: ["QuernModels"]),
        .library(name: "QuernLearning", targets: ["QuernLearning"]),
        .library(name: "QuernMedia", targets: ["QuernMedia"]),
        .library(name: "QuernPipelines", targets: ["QuernPipelines"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // SHA-256 of every input and model: BoringSSL's assembly (SHA-NI/AVX2),
        // ~10x the hand-written Swift one it replaced.
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        // The HTTP server of --metrics-listen (NIOHTTP1): measured against
        // Hummingbird, it builds in less time (docs/metrics.md).
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        // The shared job queue of several workers (--queue postgres://…): the
        // PostgreSQL wire protocol, pooling, LISTEN/NOTIFY, TLS (docs/scale-out.md).
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // Native libraries, from Debian packages.
        .systemLibrary(
            name: "COpenBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(
            name: "CPNG", pkgConfig: "libpng16",
            providers: [.apt(["libpng-dev"])]),
        .systemLibrary(
            name: "CSndFile", pkgConfig: "sndfile",
            providers: [.apt(["libsndfile1-dev"])]),
        .systemLibrary(
            name: "CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]),
        // Chooses OpenBLAS's kernels for this CPU, then dlopen()s it.
        .target(
            name: "CQuernBLAS", dependencies: ["COpenBLAS"],
            cSettings: [.unsafeFlags(["-O2"])],
            linkerSettings: [.linkedLibrary("dl"), .linkedLibrary("pthread")]),

        // PNG decoding through libpng with its longjmp error path contained in C.
        .target(
            name: "CQuernPNG", cSettings: [.unsafeFlags(["-O2"])],
            linkerSettings: [.linkedLibrary("png16")]),

        // JPEG decoding through libjpeg-turbo (libjpeg API, Debian's
        // libjpeg62-turbo-dev) with its longjmp error path contained in C.
        .target(
            name: "CQuernJPEG", cSettings: [.unsafeFlags(["-O2"])],
            linkerSettings: [.linkedLibrary("jpeg")]),

        // The quantised matrix-vector inner loops (intrinsics, dispatched at run time).
        .target(name: "CQuernKernels", cSettings: [.unsafeFlags(["-O3"])]),

        // Which instruction-set extensions the Swift code may use: compiled
        // with -march=QUERN_TARGET_CPU, it reads the compiler's own feature
        // macros into a constant (data only, no code).
        .target(
            name: "CQuernBuildBaseline",
            cSettings: [.unsafeFlags(["-march=\(targetCPU)"]), .define("QUERN_TARGET_CPU_NAME", to: targetCPU)]),
        // Compares that with CPUID before main runs and refuses to start,
        // with a message, on a CPU that lacks any (instead of SIGILL).
        // Compiled for the x86-64 baseline so the check itself runs anywhere.
        .target(name: "CQuernCPUCheck", dependencies: ["CQuernBuildBaseline"], cSettings: [.unsafeFlags(["-O2"])]),

        // The one JSON parser, writer and Decoder, beneath every layer that
        // reads or writes JSON (checkpoint headers, model configs, requests,
        // results). Depends on nothing.
        .target(name: "QuernJSON"),

        // Layer 1: the tensor core. Knows no model, format or daemon.
        // -fno-math-errno: on Linux `squareRoot()` is C's sqrtf, which must
        // set errno for a negative input, so LLVM cannot vectorise it (the
        // optimisers' √v); without errno it is one vsqrtps for 16 values.
        .target(
            name: "QuernTensor", dependencies: ["CQuernBLAS", "CQuernKernels"],
            swiftSettings: kernelFlags + [.unsafeFlags(["-Xcc", "-fno-math-errno"])]),

        // Layer 2: checkpoint formats (GGUF, safetensors, ONNX, CTranslate2).
        .target(name: "QuernFormats", dependencies: ["QuernJSON", "QuernTensor"], swiftSettings: kernelFlags),

        // Layer 3: tokenizers (byte-level BPE, WordPiece).
        .target(name: "QuernTokenizers", dependencies: ["QuernJSON", "QuernFormats"], swiftSettings: kernelFlags),

        // Layer 4: models, one file each, on the tensor core.
        .target(name: "QuernModels", dependencies: ["CZlib", "QuernJSON", "QuernTensor", "QuernFormats", "QuernTokenizers"], swiftSettings: kernelFlags),

        // Layer 4b: learning — small classifier/regression heads on the
        // models' embeddings: their parameters and files, training (losses,
        // optimisers, schedules; gradients by hand, as GEMMs on the tensor
        // core), datasets' splits and the evaluation metrics and report.
        .target(name: "QuernLearning", dependencies: ["QuernJSON", "QuernTensor", "QuernFormats"], swiftSettings: kernelFlags),

        // Layer 5: media decoding — PNG through libpng, JPEG through libjpeg-turbo, audio through libsndfile —
        // and the pixel/sample preprocessing the models' references do.
        // PNG/WAV probing (container structure, CRC-32 from zlib) lives here too.
        .target(name: "QuernMedia", dependencies: ["CSndFile", "CQuernPNG", "CQuernJPEG", "CZlib", "QuernJSON", "QuernTensor"], swiftSettings: kernelFlags),

        // What the daemon dispatches to: requests, kind detection, pipelines, results.
        .target(
            name: "QuernPipelines",
            dependencies: [
                "QuernJSON", "QuernModels", "QuernMedia", "QuernLearning",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]),

        // A small HTTP/1.1 server on SwiftNIO; its routes are registered by
        // its user (the monitoring endpoints; an API later). Knows no Quern type.
        .target(
            name: "QuernHTTP",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]),

        // The shared job queue in PostgreSQL: its schema and migrations, and
        // the statements workers claim, renew, finish and reap jobs with.
        // Knows no daemon type: the daemon's job source builds on it.
        .target(
            name: "QuernQueue",
            dependencies: ["QuernJSON", .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "Logging", package: "swift-log")]),

        // The long-running service: inbox watching, claims, durable results,
        // recovery, and its monitoring (Prometheus metrics, /health, /ready).
        .target(
            name: "QuernDaemon",
            dependencies: ["QuernJSON", "QuernTensor", "QuernPipelines", "QuernHTTP", "QuernQueue",
                           .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "Logging", package: "swift-log")]),

        // The command-line front end.
        .executableTarget(
            name: "quern",
            dependencies: [
                "CQuernCPUCheck",
                "QuernJSON",
                "QuernTensor",
                "QuernModels",
                "QuernMedia",
                "QuernLearning",
                "QuernPipelines",
                "QuernDaemon",
                "QuernHTTP",
                "QuernQueue",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: kernelFlags),

        // Tests mirror the layers: one target per layer, each depending on its
        // layer and the ones below, plus the shared support (paths, corpora,
        // file writers, the scratch inbox, the schema validator). They take
        // the default release flags, not kernelFlags: the hot loops are in the
        // libraries, and the raised inline threshold doubled the tests'
        // compile time for no change in their run time.
        .target(
            name: "QuernTestSupport",
            dependencies: ["CZlib", "QuernJSON", "QuernTensor", .product(name: "Crypto", package: "swift-crypto")],
            path: "Tests/QuernTestSupport"),
        .testTarget(name: "QuernJSONTests", dependencies: ["QuernJSON"]),
        .testTarget(name: "QuernTensorTests", dependencies: ["QuernTensor"]),
        .testTarget(name: "QuernFormatsTests", dependencies: ["QuernFormats", "QuernTensor", "QuernTestSupport"]),
        .testTarget(
            name: "QuernTokenizersTests",
            dependencies: ["QuernTokenizers", "QuernFormats", "QuernJSON", "QuernTensor", "QuernTestSupport"],
            // Golden data is read by path at test time, not bundled.
            exclude: ["Goldens"]),
        .testTarget(
            name: "QuernModelTests",
            dependencies: ["QuernModels", "QuernFormats", "QuernTokenizers", "QuernJSON", "QuernTensor", "QuernMedia", "QuernPipelines", "QuernTestSupport"],
            exclude: ["Embeddings/Goldens", "Images/Corpus", "Images/Goldens", "Speech/Goldens", "Vision/Goldens"]),
        .testTarget(
            name: "QuernLearningTests", dependencies: ["QuernLearning", "QuernFormats", "QuernJSON", "QuernTensor", "QuernTestSupport"],
            exclude: ["Goldens"]),
        .testTarget(
            name: "QuernMediaTests", dependencies: ["QuernMedia", "QuernJSON", "QuernTensor", "QuernTestSupport"],
            exclude: ["Goldens"]),
        .testTarget(
            name: "QuernPipelinesTests",
            dependencies: ["QuernPipelines", "QuernModels", "QuernLearning", "QuernMedia", "QuernTokenizers", "QuernFormats", "QuernJSON", "QuernTensor",
                           "QuernTestSupport", .product(name: "Crypto", package: "swift-crypto"), .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "QuernQueueTests", dependencies: ["QuernQueue", "QuernJSON", "QuernTestSupport", .product(name: "Logging", package: "swift-log")]),
        .testTarget(
            name: "QuernDaemonTests",
            dependencies: ["QuernDaemon", "QuernHTTP", "QuernPipelines", "QuernModels", "QuernLearning", "QuernTensor", "QuernJSON", "QuernTestSupport",
                           .product(name: "Logging", package: "swift-log")]),
    ],
    swiftLanguageModes: [.v5]
)
