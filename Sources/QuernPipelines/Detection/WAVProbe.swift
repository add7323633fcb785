/// Walks a RIFF/WAVE file's chunks and checks each declared size against the
/// bytes that are really there, so a truncated recording is reported as such
/// instead of being decoded short or read past its end.
public enum WAVProbe {
    public static func matches(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 12 && (bytes.hasPrefix(Array("RIFF".utf8)) || bytes.hasPrefix(Array("RF64".utf8)))
            && bytes.hasPrefix(Array("WAVE".utf8), at: 8)
    }

    /// Returns the duration the header declares, in seconds.
    public static func inspect(_ bytes: [UInt8]) throws(QuernError) -> Double {
        guard matches(bytes) else { throw corrupt("the RIFF/WAVE header is missing") }
        var offset = 12
        var bytesPerSecond: Int?
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
                let channels = Int(bytes.littleEndianUInt16(at: offset + 10))
                let sampleRate = Int(bytes.littleEndianUInt32(at: offset + 12))
                let byteRate = Int(bytes.littleEndianUInt32(at: offset + 16))
                guard channels > 0, sampleRate > 0, byteRate > 0 else {
                    throw corrupt("the fmt chunk declares \(channels) channels at \(sampleRate) Hz")
                }
                bytesPerSecond = byteRate
            }
            offset += 8 + declared + (declared & 1)  // chunks are padded to even sizes
        }
        guard let rate = bytesPerSecond else { throw corrupt("no fmt chunk before the audio data") }
        guard let samples = dataBytes else { throw corrupt("truncated: no data chunk") }
        guard samples > 0 else { throw QuernError(.inputEmpty, "the WAV file holds no audio samples") }
        return Double(samples) / Double(rate)
    }

    private static func corrupt(_ detail: String) -> QuernError {
        QuernError(.inputCorrupt, "not a valid WAV file: \(detail)")
    }
}
