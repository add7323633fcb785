import Foundation
import QuernMedia
import QuernModels
import QuernPipelines
import QuernTensor
import QuernTestSupport
import Testing

/// The image pipeline end to end — PNG bytes through decode, preprocessing
/// and open_nsfw — against ONNX Runtime over the generated corpus:
/// probabilities within 1e-5 absolute, the pooled 1024-d feature within
/// 1e-5 relative (max |Δ| / max |reference|), and every broken file an error
/// result with the right code.
@Suite(.serialized) struct OpenNSFWGoldenTests {
    static let pipeline: Result<ImageClassificationPipeline, QuernError> = Result { () throws(QuernError) in
        try ImageClassificationPipeline(path: ImageTestSupport.openNSFW, modelsDirectory: TestPaths.models)
    }

    static func requirePipeline() throws -> ImageClassificationPipeline {
        switch pipeline {
        case let .success(pipeline): return pipeline
        case let .failure(error):
            Issue.record("open_nsfw is not available (run scripts/fetch-models.sh): \(error)")
            throw error
        }
    }

    static func job(_ path: String, topK: Int? = nil, threshold: Float? = nil) throws -> Job {
        Job(request: .classify(image: [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))), topK: topK, threshold: threshold))
    }

    static let context = PipelineContext(deadline: .now + .seconds(600))

    @Test func probabilitiesAndFeaturesMatchONNXRuntime() async throws {
        let (worstProbability, worstFeature) = try await Self.compareWithONNXRuntime(ImageTestSupport.goodFiles)
        print("open_nsfw vs ONNX Runtime over \(ImageTestSupport.goodFiles.count) files: max |Δp| \(worstProbability), max relative Δfeature \(worstFeature)")
    }

    /// 1×N and N×1 strips, 400:1 strips, 3×3 and portraits whose resize runs
    /// the vertical pass first: the same tolerances, each file reported.
    @Test func extremeShapesMatchONNXRuntime() async throws {
        for file in ImageTestSupport.extremeShapeFiles {
            let (probability, feature) = try await Self.compareWithONNXRuntime([file])
            print("open_nsfw vs ONNX Runtime, \(file.file) (\(file.width)×\(file.height)): |Δp| \(probability), relative Δfeature \(feature)")
        }
    }

    /// Runs `files` through the pipeline in batches of up to 8, as the daemon
    /// groups queued files, and checks each against ONNX Runtime's goldens;
    /// returns the largest probability error and relative feature error.
    static func compareWithONNXRuntime(_ files: [ImageTestSupport.GoodFile]) async throws -> (probability: Float, feature: Float) {
        let pipeline = try Self.requirePipeline()
        #expect(pipeline.preprocessing == .openNSFW)
        var worstProbability: Float = 0, worstFeature: Float = 0
        for start in stride(from: 0, to: files.count, by: pipeline.maxBatchSize) {
            let chunk = Array(files[start..<min(start + pipeline.maxBatchSize, files.count)])
            let prepared = try chunk.map { try pipeline.prepare(try Self.job($0.path, topK: 2)) }
            let results = try await pipeline.run(prepared, context: Self.context)
            for (file, result) in zip(chunk, results) {
                guard case let .classification(output) = try result.get() else {
                    Issue.record("\(file.file): not a classification"); continue
                }
                var probabilities = [Float](repeating: 0, count: 2)
                for label in output.labels { probabilities[label.index] = label.score }
                #expect(output.labels.map(\.label).sorted() == ["nsfw", "sfw"])
                let probabilityError = zip(probabilities, file.probabilities).map { abs($0 - $1) }.max() ?? .infinity
                worstProbability = max(worstProbability, probabilityError)
                #expect(probabilityError <= 1e-5, "\(file.file): probabilities \(probabilities) vs \(file.probabilities)")

                #expect(output.features.count == 1024)
                let reference = file.features ?? file.featuresPrefix
                let mine = Array(output.features.prefix(reference.count))
                let scale = reference.map(abs).max() ?? 1
                let featureError = zip(mine, reference).map { abs($0 - $1) }.max() ?? .infinity
                worstFeature = max(worstFeature, featureError / scale)
                #expect(featureError / scale <= 1e-5, "\(file.file): features differ by \(featureError) (scale \(scale))")
                let norm = output.features.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
                #expect(abs(norm - file.featuresNorm) / file.featuresNorm <= 1e-5, "\(file.file): feature norm")

                #expect(output.image?.width == file.width && output.image?.height == file.height)
                #expect(output.preprocessing?.name == "open_nsfw")
            }
        }
        return (worstProbability, worstFeature)
    }

    /// The same corpus in bfloat16 (docs/precision.md): the same top label
    /// as ONNX Runtime's float32 for every file, and every probability
    /// within the published bound (measured: 0.011 at worst, on files whose
    /// probabilities sit near the middle, where a logit moves them most).
    @Test func bfloat16StaysWithinItsPublishedFidelity() async throws {
        let pipeline = try ImageClassificationPipeline(path: ImageTestSupport.openNSFW, modelsDirectory: TestPaths.models, precision: .bfloat16)
        #expect(pipeline.identity.precision == .bfloat16)
        var worst: Float = 0
        let files = ImageTestSupport.goodFiles + ImageTestSupport.extremeShapeFiles
        for start in stride(from: 0, to: files.count, by: pipeline.maxBatchSize) {
            let chunk = Array(files[start..<min(start + pipeline.maxBatchSize, files.count)])
            let prepared = try chunk.map { try pipeline.prepare(try Self.job($0.path, topK: 2)) }
            for (file, result) in zip(chunk, try await pipeline.run(prepared, context: Self.context)) {
                guard case let .classification(output) = try result.get() else { Issue.record("\(file.file): not a classification"); continue }
                var probabilities = [Float](repeating: 0, count: 2)
                for label in output.labels { probabilities[label.index] = label.score }
                let error = zip(probabilities, file.probabilities).map { abs($0 - $1) }.max() ?? .infinity
                worst = max(worst, error)
                #expect(error <= 0.02, "\(file.file): bfloat16 probabilities \(probabilities) vs \(file.probabilities)")
                let top = probabilities[1] > probabilities[0] ? 1 : 0, referenceTop = file.probabilities[1] > file.probabilities[0] ? 1 : 0
                #expect(top == referenceTop, "\(file.file): the top label changed in bfloat16")
            }
        }
        print("open_nsfw bfloat16 vs ONNX Runtime float32 over \(files.count) files: max |Δp| \(worst)")
    }

    @Test func batchPreparationSideBySideEqualsOneByOne() throws {
        let pipeline = try Self.requirePipeline()
        let files = Array(ImageTestSupport.goodFiles.prefix(8))
        let jobs = try files.map { try Self.job($0.path) }
        let together = pipeline.prepareBatch(jobs)
        #expect(together.count == files.count)
        for (file, outcome) in zip(files, together) {
            let prepared = try outcome.result.get()
            #expect(ImageTestSupport.sha256(of: prepared.pixels) == file.inputSHA256, "\(file.file)")
        }
        var broken = jobs
        broken[3] = try Self.job(ImageTestSupport.corpus + "/broken/zlib-too-much-data.png")
        let mixed = pipeline.prepareBatch(broken)
        #expect(mixed.enumerated().allSatisfy { index, outcome in
            if case .failure = outcome.result { return index == 3 } else { return index != 3 }
        })
    }

    @Test func resultStatesWhatWasDone() async throws {
        let pipeline = try Self.requirePipeline()
        let prepared = try pipeline.prepare(try Self.job(ImageTestSupport.corpus + "/good/rgba16-adam7.png", topK: 1))
        let result = try await pipeline.run([prepared], context: Self.context)[0].get()
        guard case let .classification(output) = result else { Issue.record("not a classification"); return }
        #expect(output.labels.count == 1)
        #expect(output.image == ClassificationOutput.ImageFacts(
            width: 37, height: 29, colorType: "rgba", bitDepth: 16, interlaced: true, transparency: true))
        let steps = output.preprocessing?.steps ?? []
        for expected in ["alpha dropped (not composited)", "16-bit reduced to 8 (high byte)",
                         "resized 37×29 to 256×256 (Pillow bilinear)", "channels BGR"] {
            #expect(steps.contains(expected), "missing step \(expected) in \(steps)")
        }
    }

    @Test func thresholdDropsLowScores() async throws {
        let pipeline = try Self.requirePipeline()
        let prepared = try pipeline.prepare(try Self.job(ImageTestSupport.corpus + "/good/photo-chelsea-rgb.png", threshold: 0.5))
        guard case let .classification(output) = try await pipeline.run([prepared], context: Self.context)[0].get() else {
            Issue.record("not a classification"); return
        }
        #expect(output.labels.map(\.label) == ["sfw"])
    }

    /// (jpeg-named-png.png is broken as a PNG — PNGDecoder refuses it — but
    /// the pipeline decides by content and classifies it as the JPEG it is.)
    @Test(arguments: ImageTestSupport.brokenFiles.filter { $0.file != "jpeg-named-png.png" })
    func brokenFileIsAnErrorResult(_ file: ImageTestSupport.BrokenFile) throws {
        let pipeline = try Self.requirePipeline()
        let expected: ErrorCode = switch file.code {
        case "media.empty": .inputEmpty
        case "media.unrecognized": .inputUnrecognized
        case "media.too_large": .inputTooLarge
        default: .inputCorrupt
        }
        do {
            _ = try pipeline.prepare(try Self.job(file.path))
            Issue.record("\(file.file) (\(file.why)) was accepted")
        } catch let error as QuernError {
            #expect(error.code == expected, "\(file.why): \(error.message)")
        }
    }
}
