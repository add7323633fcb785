/// What libsndfile reports about an audio file it can open.
public struct SoundFileInfo: Sendable, Equatable {
    public var frames: Int64
    public var sampleRate: Int
    public var channels: Int

    public var seconds: Double { sampleRate > 0 ? Double(frames) / Double(sampleRate) : 0 }
}

/// Asks libsndfile whether it can open bytes held in memory (WAV, FLAC, OGG,
/// AIFF, …) — the daemon's kind detection. Only the header is parsed; no
/// sample is decoded here.
public enum SoundFileProbe {
    public static func inspect(_ bytes: [UInt8]) -> SoundFileInfo? {
        guard let file = try? SoundFile.open(bytes) else { return nil }
        defer { file.close() }
        guard file.channels > 0, file.sampleRate > 0, file.info.frames >= 0 else { return nil }
        return SoundFileInfo(frames: file.info.frames, sampleRate: file.sampleRate, channels: file.channels)
    }
}
