import ArgumentParser
import Foundation
import QuernModels
import QuernPipelines
import QuernTensor

extension Precision: ExpressibleByArgument {}

/// `quern bench resnet`: the image model alone (no decoding or
/// preprocessing) on the deterministic pattern images of
/// tools/goldens/make_resnet_goldens.py, at each batch size and thread
/// count asked for. Prints one JSON object per (threads, batch), the way
/// scripts/bench-images-model.py reads them next to ONNX Runtime's.
struct ResNetBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resnet", abstract: "Measures ResNet images/s on fixed input tensors (model only).")

    @Option(help: ArgumentHelp("The ResNet (.onnx, torchvision .safetensors or a Hugging Face folder; default: the classify model in --models).", valueName: "path"))
    var model: String?

    @OptionGroup var models: ModelsOption

    @Option(help: "Batch sizes, comma-separated.")
    var batches: String = "1,8"

    @Option(name: .customLong("thread-counts"), help: "Thread counts, comma-separated.")
    var threadCounts: String = "1,2"

    @Option(help: "Input height and width.")
    var size: Int = 224

    @Option(help: "Seconds to measure each configuration (after one warm-up batch).")
    var seconds: Double = 3

    @Flag(help: "Print each layer's best time over 10 runs (one image, each thread count) instead.")
    var layers = false

    @Option(help: ArgumentHelp("The products' precision: float32 or bfloat16.", valueName: "precision"))
    var precision: Precision = .float32

    func run() throws {
        try BLAS.load()
        let loadStart = DispatchTime.now().uptimeNanoseconds
        let network = try ResNet.load(path: models.locate(.classify, explicitPath: model).declaration.loadPath).converted(to: precision)
        let loadSeconds = Double(DispatchTime.now().uptimeNanoseconds - loadStart) / 1e9
        FileHandle.standardError.write(Data(String(format: "loaded in %.3f s; prepared weights %.1f MB (%@)\n", loadSeconds,
                                                   Double(network.weightBytes) / 1_048_576, network.precision.rawValue).utf8))
        let batchSizes = batches.split(separator: ",").compactMap { Int($0) }.filter { $0 > 0 }
        let threads = threadCounts.split(separator: ",").compactMap { Int($0) }.filter { $0 > 0 }
        guard !batchSizes.isEmpty, !threads.isEmpty, size > 0 else { throw ValidationError("need batch sizes, thread counts and a size") }
        let patterns = [(3, 5, 101), (7, 1, 37), (1, 11, 211)]
        func input(_ batch: Int) throws -> Tensor {
            var values: [Float] = []
            values.reserveCapacity(batch * 3 * size * size)
            for image in 0..<batch {
                let (a, b, c) = patterns[image % patterns.count]
                for ch in 0..<network.inputChannels {
                    for y in 0..<size { for x in 0..<size { values.append(Float((y * a + x * b + ch * c + (y * x) / 7) % 256 - 128)) } }
                }
            }
            return try Tensor(shape: [batch, network.inputChannels, size, size], values: values)
        }
        for count in threads {
            ComputeThreads.configure(threads: count)
            if layers {
                // Each step's best time over several runs (robust to a busy machine).
                let image = try input(1)
                var steps = try network.profile(image)
                for _ in 1..<10 {
                    for (index, step) in try network.profile(image).enumerated() { steps[index].seconds = min(steps[index].seconds, step.seconds) }
                }
                let total = steps.map(\.seconds).reduce(0, +)
                print("== \(count) thread(s): \(String(format: "%.2f", total * 1000)) ms per image")
                for (name, time) in steps {
                    print(name.padding(toLength: 52, withPad: " ", startingAt: 0) + String(format: "%8.3f ms  %5.1f %%", time * 1000, 100 * time / total))
                }
                continue
            }
            for batch in batchSizes {
                let pixels = try input(batch)
                _ = try network.run(pixels)
                var runs: [Double] = []
                let start = DispatchTime.now().uptimeNanoseconds
                var elapsed = 0.0
                repeat {
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    _ = try network.run(pixels)
                    runs.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
                    elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                } while elapsed < seconds
                let rates = runs.map { Double(batch) / $0 }.sorted()
                let median = rates[rates.count / 2]
                print(String(format: "{\"engine\": \"quern\", \"precision\": \"\(network.precision.rawValue)\", \"threads\": %d, \"batch\": %d, \"runs\": %d, \"images_per_second\": %.2f, \"best_images_per_second\": %.2f}",
                             count, batch, runs.count, median, rates[rates.count - 1]))
            }
        }
    }
}
