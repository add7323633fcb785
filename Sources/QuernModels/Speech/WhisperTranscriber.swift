import Foundation
import QuernFormats
import QuernTensor
import QuernTokenizers

/// One transcribed stretch of audio, with faster-whisper's fields.
public struct WhisperSegment: Sendable, Equatable {
    /// The mel frame (10 ms) at which its window started.
    public var seek: Int
    public var start: Double
    public var end: Double
    public var text: String
    /// Its tokens, timestamps included (as faster-whisper's `Segment.tokens`).
    public var tokens: [Int]
    /// Of the whole window the segment came from.
    public var averageLogProbability: Double
    public var noSpeechProbability: Double
    public var compressionRatio: Double
    /// Its words with their times, when word timestamps were asked for
    /// (nil otherwise; empty for a segment without text tokens).
    public var words: [WhisperWord]? = nil
}

/// A whole file's transcription.
public struct WhisperTranscript: Sendable {
    public var segments: [WhisperSegment]
    /// The segments' texts joined, trimmed.
    public var text: String { segments.map(\.text).joined().trimmingCharacters(in: .whitespacesAndNewlines) }
    /// Encoder states averaged over the frames that hold audio (every window).
    public var embedding: [Float]
    /// Windows decoded, and those dropped as silence.
    public var windows: Int
    public var silentWindows: Int
}

/// What one greedy pass over a window produced.
struct WhisperWindowDecoding {
    var tokens: [Int]
    var averageLogProbability: Double
    var noSpeechProbability: Double
}

/// Whisper transcription as faster-whisper 1.2 does it with `beam_size=1`,
/// `temperature=0`, `condition_on_previous_text=False`, timestamps on and no
/// VAD: 30 s windows of the log-mel, each decoded greedily under the
/// suppress lists and the timestamp rules, split into segments at timestamp
/// pairs; the next window starts at the last complete timestamp (or after
/// the whole window); windows with no-speech probability above 0.6 and an
/// average log-probability of at most −1 are dropped as silence.
public final class WhisperTranscriber: @unchecked Sendable {
    public struct Options: Sendable {
        public var noSpeechThreshold: Double = 0.6
        public var logProbabilityThreshold: Double = -1
        /// Seconds: the first timestamp of a window is at most this.
        public var maxInitialTimestamp: Double = 1
        public var withTimestamps = true
        public init() {}
    }

    public let model: WhisperModel
    public let tokenizer: ByteLevelBPE
    public let specials: WhisperSpecialTokens
    /// Suppressed at every step (faster-whisper's `suppress_tokens=[-1]`).
    public let suppressTokens: [Int]
    /// Suppressed at the first step (`suppress_blank`).
    public let suppressAtBegin: [Int]
    /// The cross-attention heads word timestamps follow (empty: the model
    /// folder names none, and word timestamps are refused).
    public let alignmentHeads: [WhisperAlignmentHead]
    public var options = Options()

    /// 10 ms per mel frame, 20 ms per encoder frame and timestamp step.
    public static let secondsPerFrame = 0.01
    public static let secondsPerTimestamp = 0.02
    static let framesPerEncoderStep = 2

    public init(model: WhisperModel, tokenizer: ByteLevelBPE, suppressTokens: [Int], suppressAtBegin: [Int],
                alignmentHeads: [WhisperAlignmentHead] = []) throws(ModelError) {
        self.model = model
        self.alignmentHeads = alignmentHeads
        self.tokenizer = tokenizer
        specials = try WhisperSpecialTokens(tokenizer: tokenizer, vocabularySize: model.config.vocabularySize)
        let s = specials
        // faster-whisper adds the task and start tokens to the model's list.
        let extra = [s.transcribe, s.translate, s.startOfTranscript, s.startOfPrevious, s.startOfLanguageModel, s.noSpeech]
        self.suppressTokens = Array(Set(suppressTokens + extra)).sorted()
        self.suppressAtBegin = suppressAtBegin
        for id in self.suppressTokens + suppressAtBegin where id < 0 || id >= model.config.vocabularySize {
            throw ModelError(.tokenOutOfRange, "suppressed token \(id) is outside the vocabulary of \(model.config.vocabularySize)")
        }
    }

    // MARK: Whole file

    /// Transcribes a log-mel [melBins, frames] computed over the whole file
    /// as faster-whisper's FeatureExtractor does (160 padding samples, so the
    /// last frame is not content).
    /// `isCancelled` is asked between windows; a cancelled transcription
    /// stops there and returns what it has.
    /// `afterWindow` is told, after each window, the segments so far and the
    /// seconds of audio done (for progress and partial results).
    /// `betweenSteps` runs before each window and each decoding step, where
    /// the daemon may pause a long transcription for shorter work.
    /// `wordTimestamps` times every word as faster-whisper's
    /// `word_timestamps=True` does, which also moves segment bounds and
    /// where an unfinished window's successor starts (its last word's end).
    public func transcribe(features: Tensor, wordTimestamps: Bool = false, isCancelled: () -> Bool = { false },
                           betweenSteps: () -> Void = {},
                           afterWindow: (_ segments: [WhisperSegment], _ doneSeconds: Double) -> Void = { _, _ in }) throws(ModelError) -> WhisperTranscript {
        let contentFrames = try self.contentFrames(of: features)
        if wordTimestamps && alignmentHeads.isEmpty {
            throw ModelError(.invalidConfig, "the speech model's folder names no alignment_heads (config.json or generation_config.json), which word timestamps need")
        }
        var lastSpeechTimestamp = 0.0
        var seek = 0
        var segments: [WhisperSegment] = []
        var windows = 0, silentWindows = 0
        var embedding = WhisperEmbeddingAccumulator(width: model.config.width)
        while seek < contentFrames && !isCancelled() {
            betweenSteps()
            let timeOffset = Double(seek) * Self.secondsPerFrame
            let (states, segmentSize) = try encodeWindow(of: features, seek: seek, contentFrames: contentFrames)
            windows += 1
            embedding.add(states, audioFrames: segmentSize)

            let session = try model.makeDecoderSession(encoderStates: states)
            let decoded = try decodeWindow(session: session, betweenSteps: betweenSteps)
            if decoded.noSpeechProbability > options.noSpeechThreshold && !(decoded.averageLogProbability > options.logProbabilityThreshold) {
                silentWindows += 1
                seek += segmentSize
                afterWindow(segments, Double(min(seek, contentFrames)) * Self.secondsPerFrame)
                continue
            }
            let previousSeek = seek
            let windowText = text(of: decoded.tokens).trimmingCharacters(in: .whitespacesAndNewlines)
            let ratio = whisperCompressionRatio(windowText)
            let split = splitSegments(decoded.tokens, timeOffset: timeOffset, segmentSize: segmentSize, seek: seek)
            seek = split.seek
            var pieces = split.segments.map { WhisperTimedPiece(start: $0.start, end: $0.end, tokens: $0.tokens) }
            if wordTimestamps {
                betweenSteps()
                try addWordTimestamps(to: &pieces, seek: previousSeek, frames: segmentSize, session: session,
                                      lastSpeechTimestamp: lastSpeechTimestamp)
                let tokens = decoded.tokens, begin = specials.timestampBegin
                let singleTimestampEnding = tokens.count >= 2 && tokens[tokens.count - 2] < begin && tokens[tokens.count - 1] >= begin
                // An unfinished window's successor starts at its last word's
                // end rather than its last timestamp.
                if !singleTimestampEnding, let lastWordEnd = Self.lastEnd(of: pieces), lastWordEnd > timeOffset {
                    seek = Int((lastWordEnd * Self.framesPerSecond).rounded(.toNearestOrEven))
                }
                if let lastWordEnd = Self.lastEnd(of: pieces) { lastSpeechTimestamp = lastWordEnd }
            }
            for piece in pieces {
                let text = text(of: piece.tokens)
                if piece.start == piece.end || text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { continue }
                segments.append(WhisperSegment(
                    seek: previousSeek, start: piece.start, end: piece.end, text: text, tokens: piece.tokens,
                    averageLogProbability: decoded.averageLogProbability, noSpeechProbability: decoded.noSpeechProbability,
                    compressionRatio: ratio, words: wordTimestamps ? piece.words : nil))
            }
            afterWindow(segments, Double(min(seek, contentFrames)) * Self.secondsPerFrame)
        }
        return WhisperTranscript(segments: segments, embedding: embedding.mean, windows: windows, silentWindows: silentWindows)
    }

    /// The text of `tokens`, control and timestamp tokens left out.
    public func text(of tokens: [Int]) -> String {
        tokenizer.decode(tokens.filter { $0 < specials.endOfText })
    }

    /// faster-whisper's `_split_segments_by_timestamps`: segments end at each
    /// pair of consecutive timestamps; a window that ends on a lone timestamp
    /// is complete, otherwise the next window starts at its last timestamp.
    func splitSegments(_ tokens: [Int], timeOffset: Double, segmentSize: Int, seek: Int)
        -> (segments: [(start: Double, end: Double, tokens: [Int])], seek: Int) {
        let begin = specials.timestampBegin
        let precision = Self.secondsPerTimestamp
        let singleTimestampEnding = tokens.count >= 2 && tokens[tokens.count - 2] < begin && tokens[tokens.count - 1] >= begin
        let consecutive = tokens.indices.filter { $0 > 0 && tokens[$0] >= begin && tokens[$0 - 1] >= begin }
        var pieces: [(start: Double, end: Double, tokens: [Int])] = []
        if !consecutive.isEmpty {
            var slices = consecutive
            if singleTimestampEnding { slices.append(tokens.count) }
            var lastSlice = 0
            for current in slices {
                let sliced = Array(tokens[lastSlice..<current])
                let startPosition = Double(sliced[0] - begin), endPosition = Double(sliced[sliced.count - 1] - begin)
                pieces.append((timeOffset + startPosition * precision, timeOffset + endPosition * precision, sliced))
                lastSlice = current
            }
            if singleTimestampEnding {
                return (pieces, seek + segmentSize)
            }
            let lastPosition = tokens[lastSlice - 1] - begin
            return (pieces, seek + lastPosition * Self.framesPerEncoderStep)
        }
        var duration = Double(segmentSize) * Self.secondsPerFrame
        if let last = tokens.last(where: { $0 >= begin }), last != begin {
            duration = Double(last - begin) * precision
        }
        return ([(timeOffset, timeOffset + duration, tokens)], seek + segmentSize)
    }

    // MARK: One window

    /// Greedy decoding of one window as CTranslate2's `Whisper.generate`
    /// does it: the no-speech probability is the softmax of the raw logits
    /// after `<|startoftranscript|>`; each step suppresses the lists, applies
    /// the timestamp rules, takes the arg-max of the log-softmax and adds its
    /// log-probability (end-of-text included) to the score. At most half the
    /// decoder's positions are generated.
    func decodeWindow(session: WhisperDecoderSession, betweenSteps: () -> Void = {}) throws(ModelError) -> WhisperWindowDecoding {
        let config = model.config, s = specials
        let prompt = s.prompt(withTimestamps: options.withTimestamps)
        session.reset()
        let promptLogits = try session.step(prompt, allLogits: true)
        let vocabulary = config.vocabularySize
        let startIndex = prompt.firstIndex(of: s.startOfTranscript) ?? 0
        let noSpeech = softmax(promptLogits.row(startIndex)).scalars[s.noSpeech]
        var logits = promptLogits.row(prompt.count - 1).scalars

        let rules = options.withTimestamps ? WhisperTimestampRules(
            endOfText: s.endOfText, noTimestamps: s.noTimestamps, timestampBegin: s.timestampBegin, timestampEnd: vocabulary - 1,
            maxInitialTimestamp: s.timestampBegin + Int((options.maxInitialTimestamp / Self.secondsPerTimestamp).rounded())) : nil
        let startStep = prompt.count - 1
        let maxSteps = min(config.targetPositions / 2, config.targetPositions - startStep)
        var sampled: [Int] = []
        var score: Float = 0
        for step in 0..<maxSteps {
            betweenSteps()
            for id in suppressTokens { logits[id] = -.infinity }
            if step == 0 { for id in suppressAtBegin { logits[id] = -.infinity } }
            let computed = rules?.apply(to: &logits, sampled: sampled) { row in Self.logSoftmax(row) }
            let logProbabilities = computed ?? Self.logSoftmax(logits)
            var best = 0
            for id in 1..<vocabulary where logProbabilities[id] > logProbabilities[best] { best = id }
            score += logProbabilities[best]
            if best == s.endOfText { break }
            sampled.append(best)
            if step + 1 == maxSteps { break }
            logits = try session.step([best]).scalars
        }
        // CTranslate2 divides the summed log-probability by the length
        // (length_penalty 1); faster-whisper multiplies it back and divides by
        // the length plus one for end-of-text.
        let length = sampled.count
        let normalized = length > 0 ? score / Float(length) : score
        let average = Double(normalized) * Double(max(length, 1)) / Double(length + 1)
        return WhisperWindowDecoding(tokens: sampled, averageLogProbability: average, noSpeechProbability: Double(noSpeech))
    }

    static func logSoftmax(_ row: [Float]) -> [Float] {
        QuernTensor.logSoftmax(Tensor(vector: row)).scalars
    }
}

extension Tensor {
    /// A [count] tensor of `values` (a shape of their own count always fits).
    init(vector values: [Float]) {
        do { self = try Tensor(shape: [values.count], values: values) } catch { self.init(zeros: [0]) }
    }
}
