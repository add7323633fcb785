import Dispatch
import Foundation
import QuernModels

/// The features a head trains on, for each example exactly the vector the
/// daemon's pipeline gives that input:
///
/// - text → the sentence embedding (`EmbeddingPipeline`, as for a
///   plain-text file or an `embed` request: windows for a long text unless
///   asked to truncate);
/// - PNG → the image model's pooled `features` (`ImageClassificationPipeline`);
/// - audio → the transcription result's `embedding`, from the encoder alone
///   (`TranscriptionPipeline.embed`: the same decoding, log-mel and window
///   averaging, no decoding of tokens).
///
/// Examples go through the pipeline's own batch path — `prepareBatch`, then
/// `run` — in batches of its `maxBatchSize`, as the daemon batches queued
/// files, so the numbers are the daemon's: bit for bit for the same batch
/// (a file alone is a batch of one), and within the daemon's own
/// batch-to-batch difference (≤ 1e-5) otherwise. Only the model the kind
/// needs is loaded — never the chat model.
public final class FeatureExtractor: Sendable {
    enum Backend: Sendable {
        case text(EmbeddingPipeline, truncate: Bool)
        case image(ImageClassificationPipeline)
        case audio(TranscriptionPipeline)
    }

    public let kind: InputKind
    public let model: ModelIdentity
    /// How features are taken, as the cache keys them.
    public let variant: String
    public let width: Int
    let backend: Backend
    let files: ExampleFile

    /// Loads the model for `kind`: `options.modelPath`, else the kind's
    /// default folder under `options.modelsDirectory`.
    public convenience init(kind: InputKind, options: FeatureOptions) throws(DatasetError) {
        let task: TaskName
        switch kind {
        case .text: task = .embed
        case .image: task = .classify
        case .audio: task = .transcribe
        case .request, .unknown:
            throw DatasetError(.invalidOption, "features come from text, images or audio, not \(kind.rawValue)")
        }
        let pipeline: any Pipeline
        do {
            let located = try ModelRegistry.locate(task: task, modelsDirectory: options.modelsDirectory, explicitPath: options.modelPath)
            let context = ModelLoadContext(modelsDirectory: options.modelsDirectory, limits: options.limits)
            do { pipeline = try located.load(context) } catch {
                throw DatasetError(.featureModel, path: located.path, "cannot load the feature model: \(error.message)")
            }
        } catch let error as ModelRegistryError {
            throw DatasetError(.featureModel, path: error.path, "the feature model for \(kind.rawValue): \(error.message)")
        } catch {
            throw error as? DatasetError ?? DatasetError(.featureModel, "cannot load the feature model: \(error)")
        }
        switch pipeline {
        case let text as EmbeddingPipeline: self.init(text: text, truncateLongTexts: options.truncateLongTexts, limits: options.limits)
        case let image as ImageClassificationPipeline: self.init(image: image, limits: options.limits)
        case let audio as TranscriptionPipeline: self.init(audio: audio, limits: options.limits)
        default:
            throw DatasetError(.featureModel, "the model for \(kind.rawValue) (\(pipeline.identity.name)) gives no features Quern can train on")
        }
    }

    /// From an embedding pipeline already loaded.
    public convenience init(text pipeline: EmbeddingPipeline, truncateLongTexts: Bool = false, limits: InputLimits = InputLimits()) {
        self.init(kind: .text, backend: .text(pipeline, truncate: truncateLongTexts), model: pipeline.identity,
                  variant: truncateLongTexts ? "text-truncate" : "text-windows", width: pipeline.embedder.dimensions, limits: limits)
    }

    /// From an image pipeline already loaded. The variant names the image
    /// preprocessing and a digest of all its settings: the same weights
    /// with another preprocessing give other features.
    public convenience init(image pipeline: ImageClassificationPipeline, limits: InputLimits = InputLimits()) {
        let settings = SHA256Hex.of(Array(String(describing: pipeline.preprocessing).utf8)).prefix(12)
        self.init(kind: .image, backend: .image(pipeline), model: pipeline.identity,
                  variant: "image-pooled-\(pipeline.preprocessing.name)-\(settings)", width: pipeline.model.featureWidth, limits: limits)
    }

    /// From a transcription pipeline already loaded.
    public convenience init(audio pipeline: TranscriptionPipeline, limits: InputLimits = InputLimits()) {
        self.init(kind: .audio, backend: .audio(pipeline), model: pipeline.identity, variant: "audio-encoder-mean",
                  width: pipeline.transcriber.model.config.width, limits: limits)
    }

    private init(kind: InputKind, backend: Backend, model: ModelIdentity, variant: String, width: Int, limits: InputLimits) {
        self.kind = kind
        self.backend = backend
        self.model = model
        self.variant = variant
        self.width = width
        files = ExampleFile(limits: limits)
    }

    /// The cache for this model and variant under `directory`.
    public func cache(directory: String = FeatureCache.defaultDirectory()) -> FeatureCache {
        FeatureCache(directory: directory, modelSHA256: model.weightsSHA256 ?? "", variant: variant, width: width)
    }

    /// Examples per model batch: the pipeline's own.
    public var batchSize: Int {
        switch backend {
        case let .text(pipeline, _): return pipeline.maxBatchSize
        case let .image(pipeline): return pipeline.maxBatchSize
        case let .audio(pipeline): return pipeline.maxBatchSize
        }
    }

    /// The features of `examples`, from `cache` where it has them (and
    /// stored there when computed), with progress reported per batch.
    /// Throws only when cancelled.
    public func extract(_ examples: [DatasetExample], cache: FeatureCache? = nil, progress: ProgressReporter? = nil) async throws(QuernError) -> ExtractedFeatures {
        let start = DispatchTime.now()
        var vectors = [[Float]?](repeating: nil, count: examples.count)
        var skipped: [SkippedExample] = []
        var pending: [Int] = []
        var hits = 0
        for (index, example) in examples.enumerated() {
            if example.kind != kind {
                skipped.append(SkippedExample(origin: example.origin, reason: .otherKind, detail: "a \(example.kind.rawValue) example for a \(kind.rawValue) model"))
            } else if let cached = cache?.vector(for: example.sha256), cached.count == width {
                vectors[index] = cached
                hits += 1
            } else {
                pending.append(index)
            }
        }
        progress?.skip(examples.count - pending.count)
        let computeStart = DispatchTime.now()
        var batchStart = 0
        while batchStart < pending.count {
            if Task.isCancelled { throw QuernError(.cancelled, "feature extraction was cancelled") }
            let batch = Array(pending[batchStart..<min(pending.count, batchStart + max(1, batchSize))])
            let outcomes = try await compute(batch.map { examples[$0] })
            var fresh: [(inputSHA256: String, vector: [Float])] = []
            for (index, outcome) in zip(batch, outcomes) {
                switch outcome {
                case let .success(vector) where vector.count == width && vector.allSatisfy(\.isFinite):
                    vectors[index] = vector
                    fresh.append((examples[index].sha256, vector))
                case let .success(vector):
                    skipped.append(SkippedExample(origin: examples[index].origin, reason: .featureFailed,
                                                  detail: "the model gave \(vector.count) values (not \(width) finite ones)"))
                case let .failure(skip):
                    skipped.append(skip)
                }
            }
            cache?.store(fresh)
            progress?.advance(by: batch.count)
            batchStart += batch.count
        }
        progress?.finish()
        let kept = vectors.indices.filter { vectors[$0] != nil }
        return ExtractedFeatures(
            model: model, variant: variant, width: width, exampleIndices: kept, vectors: kept.compactMap { vectors[$0] },
            skipped: skipped, cacheHits: hits, computed: pending.count, seconds: FileProcessor.seconds(since: start),
            computeSeconds: FileProcessor.seconds(since: computeStart))
    }

    // MARK: One batch

    private typealias Outcome = Result<[Float], SkippedExample>

    /// One batch through the pipeline: each example's job, `prepareBatch`,
    /// then `run` (or the encoder-only `embed` for audio) on those prepared.
    private func compute(_ batch: [DatasetExample]) async throws(QuernError) -> [Outcome] {
        let context = PipelineContext(deadline: .now.advanced(by: .seconds(365 * 24 * 3600)))
        switch backend {
        case let .text(pipeline, _):
            return try await run(batch, pipeline: pipeline) { prepared async throws(QuernError) in
                try await pipeline.run(prepared, context: context).map { result in
                    result.flatMap { output -> Result<[Float], QuernError> in
                        guard case let .embedding(embedding) = output, let vector = embedding.vectors.first else { return .failure(Self.unexpected) }
                        return .success(vector)
                    }
                }
            }
        case let .image(pipeline):
            return try await run(batch, pipeline: pipeline) { prepared async throws(QuernError) in
                try await pipeline.run(prepared, context: context).map { result in
                    result.flatMap { output -> Result<[Float], QuernError> in
                        guard case let .classification(classification) = output else { return .failure(Self.unexpected) }
                        return .success(classification.features)
                    }
                }
            }
        case let .audio(pipeline):
            return try await run(batch, pipeline: pipeline) { prepared async throws(QuernError) in
                try await pipeline.embed(prepared, context: context)
            }
        }
    }

    private static let unexpected = QuernError(.internalError, "the pipeline answered with another kind of output")

    /// Jobs → `prepareBatch` → `body` on the prepared ones; every failure
    /// becomes a skipped example with its reason, in the batch's order.
    private func run<P: Pipeline>(_ batch: [DatasetExample], pipeline: P,
                                  _ body: ([P.Prepared]) async throws(QuernError) -> [Result<[Float], QuernError>]) async throws(QuernError) -> [Outcome] {
        var outcomes = [Outcome?](repeating: nil, count: batch.count)
        var jobs: [(slot: Int, job: Job)] = []
        for (slot, example) in batch.enumerated() {
            switch job(for: example) {
            case let .success(job): jobs.append((slot, job))
            case let .failure(skip): outcomes[slot] = .failure(skip)
            }
        }
        var ready: [(slot: Int, prepared: P.Prepared)] = []
        for ((slot, _), prepared) in zip(jobs, pipeline.prepareBatch(jobs.map(\.job))) {
            switch prepared.result {
            case let .success(value): ready.append((slot, value))
            case let .failure(error): outcomes[slot] = .failure(skip(batch[slot], error))
            }
        }
        if !ready.isEmpty {
            let results: [Result<[Float], QuernError>]
            do {
                results = try await body(ready.map(\.prepared))
            } catch where error.code == .cancelled {
                throw error
            } catch {
                results = Array(repeating: .failure(error), count: ready.count)
            }
            for (index, (slot, _)) in ready.enumerated() {
                let result = index < results.count ? results[index] : .failure(QuernError(.pipelineFailed, "\(model.name) returned too few results"))
                outcomes[slot] = result.mapError { skip(batch[slot], $0) }
            }
        }
        return outcomes.enumerated().map { slot, outcome in
            outcome ?? .failure(SkippedExample(origin: batch[slot].origin, reason: .featureFailed, detail: "no result"))
        }
    }

    /// The job the daemon would run for the example: an `embed` request for
    /// a text; for a file, the job its inspector makes of the bytes — read
    /// again, and skipped if they are no longer the bytes the dataset
    /// recorded.
    private func job(for example: DatasetExample) -> Result<Job, SkippedExample> {
        switch (example.input, backend) {
        case let (.text(text), .text(_, truncate)):
            return .success(Job(request: .embed(inputs: [text], truncate: truncate)))
        case let (.file(path), .image), let (.file(path), .audio):
            let bytes: [UInt8]
            switch files.read(path) {
            case let .success(read): bytes = read
            case let .failure(skip): return .failure(SkippedExample(origin: example.origin, reason: skip.reason, detail: skip.detail))
            }
            guard SHA256Hex.of(bytes) == example.sha256 else {
                return .failure(SkippedExample(origin: example.origin, reason: .changed, detail: "the file changed after the dataset was read; read the dataset again"))
            }
            let inspection = files.inspector.inspect(name: [], bytes: bytes)
            switch inspection.outcome {
            case let .success(job) where inspection.kind == kind: return .success(job)
            case let .failure(error): return .failure(skip(example, error))
            case .success:
                return .failure(SkippedExample(origin: example.origin, reason: .otherKind, detail: "the file is \(inspection.kind.rawValue), not \(kind.rawValue)"))
            }
        default:
            return .failure(SkippedExample(origin: example.origin, reason: .otherKind, detail: "a \(example.kind.rawValue) example for a \(kind.rawValue) model"))
        }
    }

    private func skip(_ example: DatasetExample, _ error: QuernError) -> SkippedExample {
        let reason: SkippedExample.Reason = error.code == .pipelineFailed || error.code == .internalError
            ? .featureFailed : ExampleFile.reason(for: error.code, kind: kind)
        return SkippedExample(origin: example.origin, reason: reason, detail: error.message)
    }
}
