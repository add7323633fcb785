/// Checks a WAVE file's header when it arrives (`WaveHeader` reads it): each
/// chunk's declared size against the bytes that are really there, so a
/// truncated recording is reported as such instead of being decoded short or
/// read past its end.
///
/// The duration is counted in frames — the data chunk's size over
/// `block_align` — at the sample rate, never from `byte_rate`: that field is
/// informational, no decoder uses it, and a false one would make an hour of
/// audio look like a second.
public enum WAVProbe {
    /// Whether `bytes` open as a RIFF, RIFX or RF64 WAVE file.
    public static func matches(_ bytes: [UInt8]) -> Bool { WaveHeader.matches(bytes) }

    /// Returns the duration the header declares, in seconds: data frames
    /// (data bytes / block_align) over the sample rate. For compressed
    /// encodings (where a block holds many frames) it is a lower bound;
    /// the caller also asks libsndfile, and the decoder counts frames as it goes.
    /// A data chunk that declares more than the file holds is `.corrupt`, one
    /// with no bytes `.empty`.
    public static func inspect(_ bytes: [UInt8]) throws(MediaError) -> Double {
        let header = try WaveHeader(bytes)
        // An open length (streaming writers): the data runs to the end.
        let dataBytes = header.declaredDataBytes ?? header.presentDataBytes
        guard dataBytes <= header.presentDataBytes else {
            throw WaveHeader.corrupt("truncated: the data chunk declares \(dataBytes) bytes but only \(header.presentDataBytes) remain")
        }
        guard dataBytes > 0 else { throw MediaError(.empty, "the WAV file holds no audio samples") }
        return Double(dataBytes / header.format.blockAlign) / Double(header.format.sampleRate)
    }
}
