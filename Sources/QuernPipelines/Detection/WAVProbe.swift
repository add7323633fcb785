/// Walks a RIFF/WAVE file's chunks and checks each declared size against the
/// bytes that are really there, so a truncated recording is reported as such
/// instead of being decoded short or read past its end.
///
/// The duration is counted in frames — the data chunk's size over
/// `block_align` — at the sample rate, never from `byte_rate`: that field is
/// informational, no decoder uses it, and a false one would make an hour of
/// audio look like a second.
public enum WAVProbe {
    public static func matches(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 12 && (bytes.hasPrefix(Array("RIFF".utf8)) || bytes.hasPrefix(Array("RF64".utf8)))
            && bytes.hasPrefix(Array("WAVE".utf8), at: 8)
    }

    /// Format tags whose frames are `block_align` bytes of samples:
    /// PCM, IEEE float, A-law, µ-law.
    private static let linearFormats: Set<Int> = [1, 3, 6, 7]
    private static let extensibleFormat = 0xFFFE

    /// Returns the duration the header declares, in seconds: data frames
    /// (data bytes / block_align) over the sample rate. For compressed
    /// encodings (where a block holds many frames) it is a lower bound;
    /// the caller also asks libsndfile, and the decoder counts frames as it goes.
    public static func inspect(_ bytes: [UInt8]) throws(QuernError) -> Double {
        guard matches(bytes) else { throw corrupt("the RIFF/WAVE header is missing") }
        var offset = 12
        var format: (sampleRate: Int, blockAlign: Int)?
        var dataBytes: Int?
        while offset + 8 <= bytes.count {
            let type = bytes.fourCC(at: offset)
            let declared = Int(bytes.littleEndianUInt32(at: offset + 4))
            let remaining = bytes.count - offset - 8
            if type == "data" {
                // Streaming writers that never went back to patch the header
                // leave 0xFFFFFFFF (or 0 in RF64): the data runs to the end.
                if declared == 0xFFFF_FFFF || (declared == 0 && bytes.hasPrefix(Array("RF64".utf8))) {
                    dataBytes = remaining
                } else if declared > remaining {
                    throw corrupt("truncated: the data chunk declares \(declared) bytes but only \(remaining) remain")
                } else {
                    dataBytes = declared
                }
                break
            }
            guard declared <= remaining else {
                throw corrupt("truncated: chunk \"\(type)\" at byte \(offset) declares \(declared) bytes but only \(remaining) remain")
            }
            if type == "fmt " {
                guard declared >= 16 else { throw corrupt("the fmt chunk is \(declared) bytes, at least 16 expected") }
                format = try parseFormat(bytes, at: offset + 8, size: declared)
            }
            offset += 8 + declared + (declared & 1)  // chunks are padded to even sizes
        }
        guard let format else { throw corrupt("no fmt chunk before the audio data") }
        guard let samples = dataBytes else { throw corrupt("truncated: no data chunk") }
        guard samples > 0 else { throw QuernError(.inputEmpty, "the WAV file holds no audio samples") }
        return Double(samples / format.blockAlign) / Double(format.sampleRate)
    }

    /// The fmt chunk's fields that matter, each fault named on its own.
    private static func parseFormat(_ bytes: [UInt8], at body: Int, size: Int) throws(QuernError) -> (sampleRate: Int, blockAlign: Int) {
        let tag = Int(bytes.littleEndianUInt16(at: body))
        let channels = Int(bytes.littleEndianUInt16(at: body + 2))
        let sampleRate = Int(bytes.littleEndianUInt32(at: body + 4))
        let blockAlign = Int(bytes.littleEndianUInt16(at: body + 12))
        let bits = Int(bytes.littleEndianUInt16(at: body + 14))
        var isLinear = linearFormats.contains(tag)
        if tag == extensibleFormat, size >= 26 {
            isLinear = linearFormats.contains(Int(bytes.littleEndianUInt16(at: body + 24)))
        }
        guard channels > 0 else { throw corrupt("the WAV header declares 0 channels") }
        guard sampleRate > 0 else { throw corrupt("the WAV header declares a sample rate of 0 Hz") }
        guard blockAlign > 0 else { throw corrupt("the WAV header declares a block_align of 0 bytes per frame") }
        // Compressed encodings (MP3 in WAV, …) may leave bits per sample at 0.
        guard bits > 0 || !isLinear else { throw corrupt("the WAV header declares 0 bits per sample") }
        return (sampleRate, blockAlign)
    }

    private static func corrupt(_ detail: String) -> QuernError {
        QuernError(.inputCorrupt, "not a valid WAV file: \(detail)")
    }
}
