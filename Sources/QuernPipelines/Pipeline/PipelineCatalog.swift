import Foundation
import QuernMedia

/// The pipelines a daemon or `quern run` starts with.
public enum PipelineCatalog {
    public struct Options: Sendable {
        public var modelsDirectory: String
        /// Replaces every model by `DiagnosticPipeline` (tests, overhead benchmark).
        public var diagnostic: Bool
        public var diagnosticDelay: Duration
        /// The daemon's input limits: the pipelines enforce them again while
        /// decoding (pixels, seconds of audio), because headers can lie.
        public var limits: InputLimits

        public init(modelsDirectory: String, diagnostic: Bool = false, diagnosticDelay: Duration = .zero,
                    limits: InputLimits = InputLimits()) {
            self.modelsDirectory = modelsDirectory
            self.diagnostic = diagnostic
            self.diagnosticDelay = diagnosticDelay
            self.limits = limits
        }
    }

    /// Each real model plugs in here with one line once its pipeline exists, e.g.
    /// `registry.register(try ChatPipeline(directory: options.modelsDirectory + "/smollm2"))`.
    /// Until then its tasks answer `unsupported`.
    public static func makeRegistry(_ options: Options) throws(QuernError) -> PipelineRegistry {
        var registry = PipelineRegistry()
        if options.diagnostic {
            registry.register(DiagnosticPipeline(delay: options.diagnosticDelay))
            return registry
        }
        // A model that is missing or fails to load makes its own tasks fail
        // with the reason (and `serve` logs it); the other kinds keep working.
        var embedding: EmbeddingPipeline?
        do throws(QuernError) {
            let pipeline = try EmbeddingPipeline(directory: try DefaultModel.sentenceEmbedding.path(in: options.modelsDirectory))
            registry.register(pipeline)
            embedding = pipeline
        } catch {
            registry.markUnavailable([.embed], reason: error.message)
        }
        do throws(QuernError) {
            let language = try LanguageModelPipeline(path: try DefaultModel.languageModel.path(in: options.modelsDirectory))
            // Plain-text files also get their text's embedding in the same result.
            if let embedding {
                registry.register(EmbeddingAttachingPipeline(base: language, embedding: embedding))
            } else {
                registry.register(language)
            }
        } catch {
            registry.markUnavailable([.chat, .complete], reason: error.message)
        }
        do throws(QuernError) {
            registry.register(try ImageClassificationPipeline(
                path: try DefaultModel.imageClassifier.path(in: options.modelsDirectory), modelsDirectory: options.modelsDirectory,
                maximumPixels: options.limits.maxPixels))
        } catch {
            registry.markUnavailable([.classify], reason: error.message)
        }
        do throws(QuernError) {
            var audioLimits = AudioLimits.standard
            audioLimits.maxSeconds = options.limits.maxAudioSeconds
            registry.register(try TranscriptionPipeline(
                directory: try DefaultModel.speechRecognizer.path(in: options.modelsDirectory), limits: audioLimits))
        } catch {
            registry.markUnavailable([.transcribe], reason: error.message)
        }
        return registry
    }
}

/// The default models, as scripts/fetch-models.sh lays them out in the
/// models folder.
public enum DefaultModel: String, CaseIterable, Sendable {
    case languageModel = "smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf"
    /// A sentence-transformers folder.
    case sentenceEmbedding = "all-minilm-l6-v2"
    /// open_nsfw (ONNX), the image classifier for PNG files.
    case imageClassifier = "open-nsfw/open-nsfw.onnx"
    /// Whisper tiny.en (CTranslate2 folder), the speech recogniser for audio files.
    case speechRecognizer = "whisper-tiny-en"

    /// The model's path, or an error saying how to fetch it.
    public func path(in modelsDirectory: String) throws(QuernError) -> String {
        let path = modelsDirectory + "/" + rawValue
        guard FileManager.default.fileExists(atPath: path) else {
            throw QuernError(.internalError, "model file \(path) is missing; run scripts/fetch-models.sh (or point --models at the folder holding it)")
        }
        return path
    }
}
