/// What the file was before decoding turned it into mono samples at the
/// target rate.
public struct AudioSourceInfo: Sendable, Equatable {
    /// libsndfile's name for the container, e.g. "WAV (Microsoft)".
    public var container: String
    /// libsndfile's name for the sample encoding, e.g. "Signed 16 bit PCM".
    public var encoding: String
    /// True for WAV files whose format chunk is WAVE_FORMAT_EXTENSIBLE.
    public var isExtensible: Bool
    public var sampleRate: Int
    public var channels: Int
    /// Frames (samples per channel) actually decoded.
    public var frames: Int
    /// Frames the header declares, when it declares a length; differs from
    /// `frames` for a truncated file.
    public var declaredFrames: Int?
    /// Duration of the decoded frames at the source rate.
    public var durationSeconds: Double

    public init(container: String, encoding: String, isExtensible: Bool, sampleRate: Int, channels: Int,
                frames: Int, declaredFrames: Int?) {
        self.container = container
        self.encoding = encoding
        self.isExtensible = isExtensible
        self.sampleRate = sampleRate
        self.channels = channels
        self.frames = frames
        self.declaredFrames = declaredFrames
        self.durationSeconds = sampleRate > 0 ? Double(frames) / Double(sampleRate) : 0
    }
}

/// A decoded signal: mono, float, at the rate the caller asked for.
public struct DecodedAudio: Sendable {
    /// Mono samples at `sampleRate`, full scale ±1 (PCM is divided by 2^(bits−1),
    /// 8-bit unsigned is centred first, float data is kept as stored).
    public var samples: [Float]
    /// Equal to the `targetSampleRate` the decode was asked for.
    public var sampleRate: Int
    public var source: AudioSourceInfo
    /// Plain-language account of what was done or recovered, e.g.
    /// "downmixed 2 channels to mono (mean)", "resampled 44100 → 16000 Hz",
    /// "header declares 480000 frames; 120000 decoded".
    public var notes: [String]
    /// False when only part of the declared audio could be decoded (a
    /// truncated or damaged file); `notes` then says how much.
    public var isComplete: Bool

    public init(samples: [Float], sampleRate: Int, source: AudioSourceInfo, notes: [String], isComplete: Bool) {
        self.samples = samples
        self.sampleRate = sampleRate
        self.source = source
        self.notes = notes
        self.isComplete = isComplete
    }

    /// Seconds of audio in `samples`.
    public var durationSeconds: Double { sampleRate > 0 ? Double(samples.count) / Double(sampleRate) : 0 }
}
