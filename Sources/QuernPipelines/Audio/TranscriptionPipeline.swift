import Foundation
import QuernMedia
import QuernModels
import QuernTensor

/// Speech transcription (task `transcribe`; audio files dropped in the
/// inbox): libsndfile decoding to 16 kHz mono → Whisper's log-mel → the
/// Whisper encoder and greedy decoder as faster-whisper runs them → text,
/// timestamped segments, the audio's embedding (encoder states averaged over
/// the frames holding audio), the decoder's notes and, when asked, word
/// timestamps and SRT/VTT/text renderings (in the result, or as files
/// beside it).
///
/// `prepare` decodes and computes the log-mel (decode time); `run` encodes
/// and decodes the 30 s windows (inference).
public struct TranscriptionPipeline: Pipeline {
    public struct Prepared: Sendable {
        let features: Tensor
        let durationSeconds: Double
        let notes: [String]
        let options: TranscriptionOptions
    }

    public let identity: ModelIdentity
    public let tasks: Set<TaskName> = [.transcribe]
    public let transcriber: WhisperTranscriber
    let logMel: WhisperLogMel
    let limits: AudioLimits

    /// Loads the Whisper folder at `directory` (CTranslate2 `model.bin` or
    /// Hugging Face safetensors, with tokenizer.json and the suppress lists).
    public init(directory: String, limits: AudioLimits = .standard, precision: Precision = .float32) throws(QuernError) {
        do {
            transcriber = try WhisperTranscriber.load(directory: directory, precision: precision)
        } catch {
            throw QuernError(loading: "speech model", at: directory, error)
        }
        logMel = WhisperLogMel(melBins: transcriber.model.config.melBins)
        self.limits = limits
        let weights = FileManager.default.fileExists(atPath: directory + "/model.bin") ? directory + "/model.bin" : directory + "/model.safetensors"
        identity = ModelIdentity(name: URL(fileURLWithPath: directory).lastPathComponent, weightsSHA256: try FileChecksum.sha256(of: weights),
                                 precision: precision)
    }

    public func prepare(_ job: Job) throws(QuernError) -> Prepared {
        if let requested = job.model, !identity.answers(to: requested) {
            throw QuernError(.requestInvalidValue, "model \"\(requested)\" is not loaded (this daemon transcribes speech with \"\(identity.name)\")")
        }
        guard case let .transcribe(bytes, options) = job.request else {
            throw QuernError(.internalError, "the speech pipeline received a \(job.request.task.rawValue) job")
        }
        let audio: DecodedAudio
        do {
            audio = try AudioDecoder.decode(bytes, targetSampleRate: logMel.sampleRate, limits: limits)
        } catch {
            throw QuernError(decoding: error, unrecognized: "not audio libsndfile can read")
        }
        // faster-whisper's FeatureExtractor pads the signal with one hop (160
        // samples), so the last frame is not content.
        let features = logMel.compute(audio.samples, paddingSamples: logMel.hopLength)
        if options.wordTimestamps && transcriber.alignmentHeads.isEmpty {
            throw QuernError(.requestInvalidValue, "field \"word_timestamps\": the speech model \"\(identity.name)\" names no alignment_heads in its config.json or generation_config.json, which word timestamps need")
        }
        return Prepared(features: features, durationSeconds: audio.durationSeconds, notes: audio.notes, options: options)
    }

    public func run(_ batch: [Prepared], context: PipelineContext) async throws(QuernError) -> [Result<TaskOutput, QuernError>] {
        var results: [Result<TaskOutput, QuernError>] = []
        for (index, item) in batch.enumerated() {
            try context.checkCancellation()
            let transcript: WhisperTranscript
            context.report(index, .audio(doneSeconds: 0, totalSeconds: item.durationSeconds))
            do {
                transcript = try transcriber.transcribe(features: item.features, wordTimestamps: item.options.wordTimestamps, isCancelled: { Task.isCancelled }, betweenSteps: { context.pace() }, afterWindow: { segments, done in
                    // The segments so far are what a timeout or a cancellation keeps.
                    context.report(index, .audio(doneSeconds: min(done, item.durationSeconds), totalSeconds: item.durationSeconds))
                    let partial = Self.segments(of: segments)
                    let text = segments.map(\.text).joined().trimmingCharacters(in: .whitespacesAndNewlines)
                    context.recordPartial(index, .transcription(TranscriptionOutput(
                        text: text, segments: partial, language: "en", durationSeconds: item.durationSeconds, notes: item.notes)))
                })
            } catch {
                results.append(.failure(QuernError(.pipelineFailed, "the speech model failed: \(error)")))
                continue
            }
            try context.checkCancellation()
            let segments = Self.segments(of: transcript.segments)
            var notes = item.notes
            if transcript.silentWindows > 0 {
                notes.append("\(transcript.silentWindows) of \(transcript.windows) 30 s windows skipped as silence (no-speech probability > 0.6, average log-probability ≤ −1)")
            }
            let subtitles = item.options.subtitles.map { format in (format: format.rawValue, text: format.render(segments)) }
            var output = TranscriptionOutput(
                text: transcript.text, segments: segments, language: "en", durationSeconds: item.durationSeconds,
                embedding: transcript.embedding, notes: notes, subtitles: subtitles)
            output.files = (item.options.files ?? []).map { format in (format: format, text: format.render(segments)) }
            results.append(.success(.transcription(output)))
        }
        return results
    }

    static func segments(of segments: [WhisperSegment]) -> [TranscriptionOutput.Segment] {
        segments.map { segment in
            TranscriptionOutput.Segment(
                start: segment.start, end: segment.end, text: segment.text,
                averageLogProbability: segment.averageLogProbability, noSpeechProbability: segment.noSpeechProbability,
                compressionRatio: segment.compressionRatio,
                words: segment.words)
        }
    }
}
