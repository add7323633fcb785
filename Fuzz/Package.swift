// swift-tools-version:6.0
import PackageDescription

// libFuzzer targets, one executable per parser, built by scripts/fuzz.sh:
//
//   swift build -c release --package-path Fuzz --scratch-path .build-fuzz \
//       --sanitize fuzzer --sanitize address \
//       -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
//
// The -Xswiftc -sanitize=fuzzer,address matters: SwiftPM passes
// `-sanitize=address -sanitize=fuzzer` to swiftc, and swiftc keeps only the
// last -sanitize option, so without it the Swift code gets coverage but no
// address sanitizer (clang, for the C targets, accumulates them).
//
// Each target defines LLVMFuzzerTestOneInput; libFuzzer supplies main().
let media: Target.Dependency = .product(name: "QuernMedia", package: "Quern")
let json: Target.Dependency = .product(name: "QuernJSON", package: "Quern")
let formats: Target.Dependency = .product(name: "QuernFormats", package: "Quern")
let tokenizers: Target.Dependency = .product(name: "QuernTokenizers", package: "Quern")
let models: Target.Dependency = .product(name: "QuernModels", package: "Quern")
let pipelines: Target.Dependency = .product(name: "QuernPipelines", package: "Quern")

let fuzzTargets: [(name: String, dependencies: [Target.Dependency])] = [
    ("fuzz-png", [media]),
    ("fuzz-jpeg", [media]),
    ("fuzz-audio", [media]),
    ("fuzz-gguf", [formats, tokenizers, models]),
    ("fuzz-safetensors", [formats]),
    ("fuzz-onnx", [formats, models]),
    ("fuzz-ctranslate2", [formats, models]),
    ("fuzz-tokenizer-json", [tokenizers]),
    ("fuzz-request", [pipelines]),
    ("fuzz-json", [json]),
]

let package = Package(
    name: "QuernFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "Quern", path: "..")],
    targets: [
        .target(name: "FuzzSupport", dependencies: [formats, models]),
    ] + fuzzTargets.map { target in
        .executableTarget(name: target.name, dependencies: ["FuzzSupport"] + target.dependencies)
    },
    swiftLanguageModes: [.v5]
)
