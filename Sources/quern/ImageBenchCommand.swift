import ArgumentParser
import Foundation
import QuernPipelines
import QuernTensor

/// `quern bench images`: PNG and JPEG files to results through the image pipeline,
/// as the daemon runs them — read the file, decode, preprocess (`prepare`),
/// then the model on batches (`run`) — with the model loaded once beforehand
/// and one untimed warm-up pass. Prints one JSON object (images/s and the
/// share of time spent decoding and preprocessing).
struct ImageBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "images", abstract: "Measures PNG/JPEG file → classification result throughput (model load excluded).")

    @Argument(help: ArgumentHelp("PNG or JPEG files, or folders of them (.png, .jpg, .jpeg).", valueName: "path"))
    var paths: [String]

    @Option(help: ArgumentHelp("The image model (.onnx, torchvision .safetensors or a Hugging Face folder; default: the classify model in --models).", valueName: "path"))
    var model: String?

    @OptionGroup var models: ModelsOption

    @Option(help: "Images per model batch (the daemon groups up to 8).")
    var batch = 1

    @Option(help: "Timed passes over all the files.")
    var repetitions = 3

    @Flag(name: .customLong("prepare-only"), help: "Time only reading, decoding and preprocessing (no model run).")
    var prepareOnly = false

    @Option(help: ArgumentHelp("The convolutions' precision: float32 or bfloat16.", valueName: "precision"))
    var precision: Precision = .float32

    @OptionGroup var compute: ComputeOptions

    func run() throws {
        _ = try compute.prepare()
        let modelsDirectory = try models.directory()
        let modelPath = try models.locate(.classify, explicitPath: model).declaration.loadPath
        let files = try imageFiles()
        guard !files.isEmpty else { throw ValidationError("no PNG or JPEG files in \(paths)") }
        guard batch >= 1, repetitions >= 1 else { throw ValidationError("--batch and --repetitions must be at least 1") }
        let pipeline = AnyPipeline(try ImageClassificationPipeline(path: modelPath, modelsDirectory: modelsDirectory, precision: precision))
        let clock = ContinuousClock()

        var rates: [Double] = []
        var prepareShare: [Double] = []
        for repetition in 0...repetitions {
            var preparing = Duration.zero
            let start = clock.now
            for first in stride(from: 0, to: files.count, by: batch) {
                let chunk = files[first..<min(first + batch, files.count)]
                let prepareStart = clock.now
                let jobs = try chunk.map { file in
                    Job(request: .classify(image: [UInt8](try Data(contentsOf: URL(fileURLWithPath: file))), topK: nil, threshold: nil))
                }
                // As the daemon's compute lane does: the whole batch prepared at once.
                let prepared = try pipeline.prepareBatch(jobs).map { try $0.result.get() }
                preparing += clock.now - prepareStart
                if prepareOnly { continue }
                let execution = BatchExecution(pipeline: pipeline, batch: prepared, timeout: .seconds(3600))
                guard let results = execution.wait(timeout: .seconds(3600)) else { throw ValidationError("a batch did not finish") }
                for result in results { _ = try result.get() }
            }
            let elapsed = clock.now - start
            if repetition > 0 {  // pass 0 is the warm-up
                rates.append(Double(files.count) / seconds(elapsed))
                prepareShare.append(seconds(preparing) / seconds(elapsed))
            }
        }
        let mean = rates.reduce(0, +) / Double(rates.count)
        let deviation = (rates.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(max(rates.count - 1, 1))).squareRoot()
        let share = prepareShare.reduce(0, +) / Double(prepareShare.count)
        print(String(format: "{\"engine\": \"quern\", \"precision\": \"\(precision.rawValue)\", \"model\": \"%@\", \"threads\": %d, \"batch\": %d, \"images\": %d, \"images_per_second\": {\"mean\": %.2f, \"stdev\": %.2f}, \"prepare_share\": %.3f}",
                     pipeline.identity.name, ComputeThreads.count, batch, files.count, mean, deviation, share))
    }

    private func imageFiles() throws -> [String] {
        var files: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw ValidationError("\(path): no such file or folder")
            }
            if isDirectory.boolValue {
                let names = try FileManager.default.contentsOfDirectory(atPath: path).filter { name in [".png", ".jpg", ".jpeg"].contains { name.lowercased().hasSuffix($0) } }.sorted()
                files += names.map { path + "/" + $0 }
            } else {
                files.append(path)
            }
        }
        return files
    }

    private func seconds(_ duration: Duration) -> Double {
        let (whole, fraction) = duration.components
        return Double(whole) + Double(fraction) / 1e18
    }
}
