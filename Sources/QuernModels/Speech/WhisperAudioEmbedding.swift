import QuernTensor

/// A whole file's audio embedding without decoding a token: what
/// `WhisperTranscript.embedding` holds, for training heads on audio.
public struct WhisperAudioEmbedding: Sendable, Equatable {
    /// Encoder states averaged over the encoder frames that hold audio.
    public var vector: [Float]
    /// 30 s windows encoded.
    public var windows: Int
}

/// The running mean of encoder states over the frames that hold audio: a
/// window's zero-padded tail (silence Whisper was never given) is left out.
/// Sums are kept in Double so the mean does not depend on how many windows
/// came before.
struct WhisperEmbeddingAccumulator {
    private var sum: [Double]
    private var frames = 0

    init(width: Int) { sum = [Double](repeating: 0, count: width) }

    /// Adds the states of a window holding `audioFrames` mel frames of audio.
    mutating func add(_ states: Tensor, audioFrames: Int) {
        let width = sum.count
        let steps = min(states.shape[0], (audioFrames + WhisperTranscriber.framesPerEncoderStep - 1) / WhisperTranscriber.framesPerEncoderStep)
        for (index, value) in states.rows(0..<steps).scalars.enumerated() { sum[index % width] += Double(value) }
        frames += steps
    }

    var mean: [Float] { sum.map { Float($0 / Double(max(frames, 1))) } }
}

extension WhisperTranscriber {
    /// The audio's embedding from the encoder alone, for a log-mel computed
    /// as for `transcribe` (160 padding samples: the last frame is not content).
    ///
    /// The windows and the averaging are `transcribe`'s own code, so for a
    /// file that transcription covers in one window — anything up to 30 s
    /// whose window the decoder finishes (ends on a lone timestamp, or has
    /// no timestamp pair), e.g. every short clip — the vector is the same,
    /// bit for bit. Longer audio differs: transcription starts its next
    /// window at the last decoded timestamp, so its windows overlap by
    /// however much speech was cut, while this path steps exactly 30 s at a
    /// time and encodes each stretch of audio once.
    public func embed(features: Tensor, isCancelled: () -> Bool = { false }) throws(ModelError) -> WhisperAudioEmbedding {
        let contentFrames = try self.contentFrames(of: features)
        var accumulator = WhisperEmbeddingAccumulator(width: model.config.width)
        var seek = 0, windows = 0
        while seek < contentFrames && !isCancelled() {
            let (states, segmentSize) = try encodeWindow(of: features, seek: seek, contentFrames: contentFrames)
            accumulator.add(states, audioFrames: segmentSize)
            windows += 1
            seek += segmentSize
        }
        return WhisperAudioEmbedding(vector: accumulator.mean, windows: windows)
    }

    /// Mel frames that are content: all but the padding frame.
    func contentFrames(of features: Tensor) throws(ModelError) -> Int {
        let config = model.config
        guard features.rank == 2, features.shape[0] == config.melBins else {
            throw ModelError(.invalidConfig, "features must be [\(config.melBins), frames], got \(features.shape)")
        }
        return max(0, features.shape[1] - 1)
    }

    /// The 30 s window of `features` starting at mel frame `seek`, zero-padded
    /// past the content, through the encoder; with how many frames hold audio.
    func encodeWindow(of features: Tensor, seek: Int, contentFrames: Int) throws(ModelError) -> (states: Tensor, segmentSize: Int) {
        let config = model.config
        let segmentSize = min(config.windowFrames, contentFrames - seek)
        let window = Tensor(zeros: [config.melBins, config.windowFrames])
        let part = features.columns(seek..<seek + segmentSize)
        for bin in 0..<config.melBins { window.row(bin).rows(0..<segmentSize).assign(part.row(bin)) }
        return (try model.encode(window), segmentSize)
    }
}
