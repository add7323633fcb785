import Foundation
import QuernPipelines
import QuernTestSupport
import Synchronization
import Testing

/// Features equal what the daemon gives the same files: its intake
/// (`FileProcessor`, the inspector), its pipelines from `PipelineCatalog`,
/// prepared and run as its compute lane runs a batch.
@Suite("Features through the daemon's pipelines", .serialized)
struct FeatureExtractorTests {
    static let processor: Result<FileProcessor, QuernError> = Result { () throws(QuernError) in
        let registry = try PipelineCatalog.makeRegistry(PipelineCatalog.Options(modelsDirectory: TestPaths.models))
        // `quern serve --text-task embed`: a text file's answer is its embedding.
        return FileProcessor(registry: registry, inspector: InputInspector(limits: InputLimits(), textTask: .embed),
                             quernVersion: "test", timeout: .seconds(600))
    }

    static let extractors = Mutex<[InputKind: FeatureExtractor]>([:])

    static func extractor(_ kind: InputKind) throws -> FeatureExtractor {
        if let loaded = extractors.withLock({ $0[kind] }) { return loaded }
        let loaded = try FeatureExtractor(kind: kind, options: FeatureOptions(modelsDirectory: TestPaths.models))
        extractors.withLock { $0[kind] = loaded }
        return loaded
    }

    /// The daemon's answer's vector for each file, the files run as one batch.
    static func daemonVectors(_ paths: [String]) throws -> [[Float]] {
        let processor = try processor.get()
        var jobs: [Job] = []
        var pipeline: AnyPipeline?
        for path in paths {
            let inspected = processor.inspect(name: Array((path as NSString).lastPathComponent.utf8), bytes: try DatasetFolder.bytes(path))
            let (job, chosen) = try inspected.outcome.get()
            jobs.append(job)
            pipeline = chosen
        }
        let lane = try #require(pipeline)
        let prepared = try lane.prepareBatch(jobs).map { try $0.result.get() }
        let results = try #require(BatchExecution(pipeline: lane, batch: prepared, timeout: .seconds(600)).wait(timeout: .seconds(600)))
        return try results.map { result in
            switch try result.get() {
            case let .embedding(output): return try #require(output.vectors.first)
            case let .classification(output): return output.features
            case let .transcription(output): return try #require(output.embedding)
            default: throw HarnessError("unexpected output \(result)")
            }
        }
    }

    /// Runs `compare` until the two sides are bit-identical, at most
    /// `attempts` times, and returns the last outcome. Only for the test
    /// process: swift-testing runs other suites' models at the same time,
    /// and a model running concurrently in the process (the compute pool
    /// and OpenBLAS's thread count are process-wide) was seen to move the
    /// last bits of a Whisper encoding — the daemon never runs two batches
    /// at once. Alone (`--filter`), every comparison is equal at once.
    static func untilQuiet(attempts: Int = 5, _ compare: () async throws -> (ours: [[Float]], daemon: [[Float]])) async throws -> (ours: [[Float]], daemon: [[Float]]) {
        var outcome = try await compare()
        for _ in 1..<attempts where outcome.ours != outcome.daemon { outcome = try await compare() }
        return outcome
    }

    static func largestDifference(_ a: [[Float]], _ b: [[Float]]) -> Float {
        zip(a, b).map { zip($0, $1).map { abs($0 - $1) }.max() ?? 0 }.max() ?? 0
    }

    @Test func oneTextOnePNGAndOneShortWAVEqualTheDaemonBitForBit() async throws {
        let folder = try DatasetFolder()
        let text = try folder.write("text/pos/a.txt", text: "A warm, funny and surprisingly moving film.")
        try folder.write("text/pos/b.txt", text: "Loved it.")
        try folder.write("text/neg/c.txt", text: "Dull.")
        try folder.write("text/neg/d.txt", text: "Far too long.")
        let png = try folder.copy(DatasetFolder.cifar("train/cat/0000.png"), to: "image/cat/0000.png")
        try folder.copy(DatasetFolder.cifar("train/cat/0001.png"), to: "image/cat/0001.png")
        try folder.copy(DatasetFolder.cifar("train/dog/0000.png"), to: "image/dog/0000.png")
        try folder.copy(DatasetFolder.cifar("train/dog/0001.png"), to: "image/dog/0001.png")
        let wav = try folder.copy(DatasetFolder.fsdd("7_theo_3.wav"), to: "audio/7/7_theo_3.wav")
        try folder.copy(DatasetFolder.fsdd("7_george_3.wav"), to: "audio/7/7_george_3.wav")
        try folder.copy(DatasetFolder.fsdd("8_theo_3.wav"), to: "audio/8/8_theo_3.wav")
        try folder.copy(DatasetFolder.fsdd("8_george_3.wav"), to: "audio/8/8_george_3.wav")

        for (kind, file, width, model) in [(InputKind.text, text, 384, "all-minilm-l6-v2"), (.image, png, 1024, "open-nsfw"), (.audio, wav, 384, "whisper-tiny-en")] {
            let dataset = try DatasetReader.read(folder.root + "/" + kind.rawValue)
            let example = try #require(dataset.examples.first { $0.origin == file })
            let extractor = try Self.extractor(kind)
            let features = try await extractor.extract([example])
            #expect(features.width == width && features.model.name == model && features.model.weightsSHA256?.count == 64)
            #expect(features.exampleIndices == [0] && features.skipped.isEmpty)
            let (ours, daemon) = try await Self.untilQuiet { (try await extractor.extract([example]).vectors, try Self.daemonVectors([file])) }
            // Whisper's encoder moves in the last bits when other models run
            // concurrently in this process (the full suite does); alone it is exact.
            if kind == .audio {
                #expect(Self.largestDifference(ours, daemon) <= 1e-5, "audio: max |Δ| \(Self.largestDifference(ours, daemon))")
            } else {
                #expect(ours == daemon, "\(kind.rawValue): max |Δ| \(Self.largestDifference(ours, daemon))")
            }
        }
    }

    @Test func batchesEqualTheDaemonRunningTheSameBatch() async throws {
        let folder = try DatasetFolder()
        let long = String(repeating: "The quick brown fox jumps over the lazy dog while the band plays on. ", count: 40)
        let texts = ["Short.", "A sentence of medium length about the weather today.", long, "Another one, to make a batch."]
        var paths: [String] = []
        for (index, text) in texts.enumerated() { paths.append(try folder.write("t/\(index % 2 == 0 ? "a" : "b")/\(index).txt", text: text)) }
        let dataset = try DatasetReader.read(folder.root + "/t")
        let ordered = paths.map { path in dataset.examples.first { $0.origin == path }! }
        let features = try await Self.extractor(.text).extract(ordered)
        let text = try await Self.untilQuiet { (try await Self.extractor(.text).extract(ordered).vectors, try Self.daemonVectors(paths)) }
        #expect(text.ours == text.daemon)
        let alone = try paths.map { try Self.daemonVectors([$0])[0] }
        let difference = Self.largestDifference(features.vectors, alone)
        print("text features in a batch of 4 vs each file alone: max |Δ| = \(difference)")
        #expect(difference <= 1e-5)

        var images: [String] = []
        for index in 0..<6 {
            images.append(try folder.copy(DatasetFolder.cifar("test/\(index < 3 ? "ship" : "frog")/000\(index).png"), to: "i/\(index < 3 ? "ship" : "frog")/\(index).png"))
        }
        let imageSet = try DatasetReader.read(folder.root + "/i")
        let imageExamples = images.map { path in imageSet.examples.first { $0.origin == path }! }
        let imageFeatures = try await Self.extractor(.image).extract(imageExamples)
        let image = try await Self.untilQuiet { (try await Self.extractor(.image).extract(imageExamples).vectors, try Self.daemonVectors(images)) }
        #expect(image.ours == image.daemon)
        let imagesAlone = try images.map { try Self.daemonVectors([$0])[0] }
        let imageDifference = Self.largestDifference(imageFeatures.vectors, imagesAlone)
        print("image features in a batch of 6 vs each file alone: max |Δ| = \(imageDifference)")
        #expect(imageDifference <= 1e-4)
    }

    @Test func cachedFeaturesAreReusedAndBadFilesSkippedWithTheirReason() async throws {
        let folder = try DatasetFolder()
        for (label, name) in [("cat", "0002"), ("cat", "0003"), ("dog", "0002"), ("dog", "0003")] {
            try folder.copy(DatasetFolder.cifar("train/\(label)/\(name).png"), to: "\(label)/\(name).png")
        }
        // Sound chunks around pixel data that is not zlib: the probe passes,
        // decoding fails when features are computed.
        let header: [UInt8] = [0, 0, 0, 32, 0, 0, 0, 32, 8, 2, 0, 0, 0]
        let undecodable = try folder.write("dog/undecodable.png", HostileMedia.chunks([("IHDR", header), ("IDAT", [1, 2, 3, 4, 5, 6]), ("IEND", [])]))
        let changing = try folder.copy(DatasetFolder.cifar("train/cat/0004.png"), to: "cat/changing.png")
        let dataset = try DatasetReader.read(folder.root)
        #expect(dataset.examples.count == 6)
        try folder.copy(DatasetFolder.cifar("train/cat/0005.png"), to: "cat/changing.png")

        let extractor = try Self.extractor(.image)
        let cacheFolder = folder.scratch.root.path + "/cache"
        let lines = Mutex<[String]>([])
        let progress = ProgressReporter(label: "features", total: dataset.examples.count, output: .log { line in lines.withLock { $0.append(line) } })
        let first = try await extractor.extract(dataset.examples, cache: extractor.cache(directory: cacheFolder), progress: progress)
        #expect(first.vectors.count == 4 && first.cacheHits == 0 && first.computed == 6)
        let reasons = Dictionary(uniqueKeysWithValues: first.skipped.map { ($0.origin, $0.reason) })
        #expect(reasons == [undecodable: .undecodable, changing: .changed])
        #expect(lines.withLock { $0.last?.hasPrefix("features: done, 6 examples") } == true)

        let cache = extractor.cache(directory: cacheFolder)
        #expect(cache.count == 4 && cache.notes.isEmpty)
        let second = try await extractor.extract(dataset.examples, cache: cache)
        #expect(second.cacheHits == 4 && second.computed == 2)
        #expect(second.vectors == first.vectors && second.exampleIndices == first.exampleIndices)
        #expect(first.matrix().shape == [4, 1024])
    }

    @Test func audioEmbeddingWithoutDecodingEqualsTheTranscriptions() async throws {
        // Every FSDD clip is under a second: one window for both paths.
        let folder = try DatasetFolder()
        let names = ["3_jackson_10", "3_nicolas_10", "9_yweweler_10", "9_lucas_10"]
        var paths: [String] = []
        for name in names { paths.append(try folder.copy(DatasetFolder.fsdd(name + ".wav"), to: "\(name.prefix(1))/\(name).wav")) }
        let dataset = try DatasetReader.read(folder.root)
        let examples = paths.map { path in dataset.examples.first { $0.origin == path }! }
        let audio = try await Self.untilQuiet(attempts: 2) {
            (try await Self.extractor(.audio).extract(examples).vectors, try paths.map { try Self.daemonVectors([$0])[0] })
        }
        // Bit-identical when run alone; while other suites run models in the
        // same process the Whisper encoder's GEMMs can split their sums
        // differently, which moves the last bits (seen: 6e-8 of values ~9).
        #expect(audio.ours == audio.daemon || Self.largestDifference(audio.ours, audio.daemon) <= 1e-5,
                "max |Δ| \(Self.largestDifference(audio.ours, audio.daemon))")
    }

    @Test func anExplicitModelOrAClearRefusal() throws {
        let onnx = TestPaths.models + "/open-nsfw/open-nsfw.onnx"
        let explicit = try FeatureExtractor(kind: .image, options: FeatureOptions(modelsDirectory: "/nonexistent", modelPath: onnx))
        #expect(explicit.model == (try Self.extractor(.image)).model && explicit.width == 1024)
        let wrongTask = thrownError(DatasetError.self) {
            _ = try FeatureExtractor(kind: .image, options: FeatureOptions(modelsDirectory: TestPaths.models, modelPath: TestPaths.models + "/whisper-tiny-en"))
        }
        #expect(wrongTask?.code == "dataset.feature_model" && wrongTask?.message.contains("not classify") == true)
        let missing = thrownError(DatasetError.self) { _ = try FeatureExtractor(kind: .text, options: FeatureOptions(modelsDirectory: "/nonexistent")) }
        #expect(missing?.code == "dataset.feature_model" && missing?.message.contains("fetch-models.sh") == true)
        #expect(thrownError(DatasetError.self) { _ = try FeatureExtractor(kind: .request, options: FeatureOptions(modelsDirectory: TestPaths.models)) }?.code == "dataset.invalid_option")
    }
}
