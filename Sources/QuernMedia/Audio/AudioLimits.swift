/// Bounds an audio decode is held to. They are checked against what the
/// header declares before any sample is decoded, and again while decoding
/// (a header can lie, and some streams declare no length at all).
public struct AudioLimits: Sendable, Equatable {
    /// Longest accepted duration, in seconds of the source.
    public var maxSeconds: Double
    /// Most channels accepted (libsndfile itself stops at 1024).
    public var maxChannels: Int
    /// Highest accepted source sample rate, in Hz; the resampler's filter
    /// grows with the ratio between the source and target rates.
    public var maxSampleRate: Int

    public init(maxSeconds: Double = 4 * 3600, maxChannels: Int = 64, maxSampleRate: Int = 768_000) {
        self.maxSeconds = maxSeconds
        self.maxChannels = maxChannels
        self.maxSampleRate = maxSampleRate
    }

    /// Four hours, 64 channels, 768 kHz.
    public static let standard = AudioLimits()
}
