/// A RIFF, RIFX (big-endian) or RF64 WAVE file's header, read independently
/// of libsndfile: the container, the fmt chunk and what the data chunk
/// declares against what the file holds. The one reader of WAVE headers:
/// `WAVProbe` checks a file with it when it arrives, and `AudioDecoder` asks
/// it how long the recording should be (libsndfile quietly shortens its
/// frame count to the bytes there are, and the decoder wants to say plainly
/// how much the header promised).
///
/// The chunks are walked up to the data chunk. A chunk before it that runs
/// past the end of the file, or a fmt chunk that is short or declares zero
/// channels, sample rate, block_align or (for PCM-like data) bits, is an
/// error; a data chunk longer than the file is not — it is what a truncated
/// recording looks like, and `presentDataBytes` says how much is there.
public struct WaveHeader: Sendable, Equatable {
    public enum Container: String, Sendable {
        case riff = "RIFF"
        case rifx = "RIFX"
        case rf64 = "RF64"
    }

    /// The fmt chunk's fields, in the file's byte order.
    public struct Format: Sendable, Equatable {
        /// The encoding: WAVE_FORMAT_EXTENSIBLE's sub-format when it has one.
        public let formatTag: Int
        public let channels: Int
        public let sampleRate: Int
        public let blockAlign: Int
        public let bitsPerSample: Int

        /// PCM, IEEE float, A-law, µ-law: one frame is `blockAlign` bytes, so
        /// frames are data bytes over `blockAlign` (not so for compressed data).
        public var isLinear: Bool { Self.linearTags.contains(formatTag) }

        static let linearTags: Set<Int> = [1, 3, 6, 7]
        static let extensibleTag = 0xFFFE
    }

    public let container: Container
    public let format: Format
    /// The data chunk's length as declared (ds64's 64-bit size for RF64);
    /// nil when the header leaves it open, as streaming writers that never
    /// go back do: 0xFFFFFFFF, or 0 in RF64.
    public let declaredDataBytes: Int?
    /// Bytes of the data chunk that are in the file.
    public let presentDataBytes: Int

    /// Whether `bytes` open as a RIFF, RIFX or RF64 WAVE file.
    public static func matches(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 12 && container(of: bytes) != nil && bytes.hasPrefix(Array("WAVE".utf8), at: 8)
    }

    private static func container(of bytes: [UInt8]) -> Container? {
        guard bytes.count >= 4 else { return nil }
        return Container(rawValue: String(decoding: bytes[0..<4], as: UTF8.self))
    }

    /// Reads the header of `bytes`; `.corrupt` names what is wrong with it.
    public init(_ bytes: [UInt8]) throws(MediaError) {
        guard Self.matches(bytes), let container = Self.container(of: bytes) else {
            throw Self.corrupt("the RIFF/WAVE header is missing")
        }
        let bigEndian = container == .rifx
        func integer(_ offset: Int, _ width: Int) -> Int {
            Int(bytes.unsignedInteger(at: offset, width: width, bigEndian: bigEndian))
        }
        var format: Format?
        var ds64DataBytes: UInt64?
        var offset = 12
        while offset + 8 <= bytes.count {
            let type = bytes.fourCC(at: offset)
            let declared = integer(offset + 4, 4)
            let body = offset + 8
            let remaining = bytes.count - body
            if type == "data" {
                guard let format else { throw Self.corrupt("no fmt chunk before the audio data") }
                self.container = container
                self.format = format
                if declared == 0xFFFF_FFFF, container == .rf64, let size = ds64DataBytes, size > 0, size < UInt64(Int.max) {
                    declaredDataBytes = Int(size)
                } else if declared == 0xFFFF_FFFF || (declared == 0 && container == .rf64) {
                    declaredDataBytes = nil
                } else {
                    declaredDataBytes = declared
                }
                presentDataBytes = min(declaredDataBytes ?? remaining, remaining)
                return
            }
            guard declared <= remaining else {
                throw Self.corrupt("truncated: chunk \"\(type)\" at byte \(offset) declares \(declared) bytes but only \(remaining) remain")
            }
            switch type {
            case "fmt ":
                format = try Self.parseFormat(declared: declared) { relative, width in integer(body + relative, width) }
            case "ds64" where container == .rf64 && declared >= 16:
                // RIFF size (8 bytes), then the data size.
                ds64DataBytes = bytes.unsignedInteger(at: body + 8, width: 8, bigEndian: bigEndian)
            default:
                break
            }
            offset = body + declared + (declared & 1)  // chunks are padded to even sizes
        }
        if format == nil { throw Self.corrupt("no fmt chunk before the audio data") }
        throw Self.corrupt("truncated: no data chunk")
    }

    /// Frames the data chunk declares for linear (PCM-like) data, nil when
    /// the encoding is compressed or the length is left open or zero.
    public var declaredFrames: Int? {
        guard format.isLinear, let bytes = declaredDataBytes, bytes > 0 else { return nil }
        return bytes / format.blockAlign
    }

    /// The fmt chunk's fields that matter, each fault named on its own.
    /// `field(offset, width)` reads the chunk body in the file's byte order.
    private static func parseFormat(declared: Int, field: (Int, Int) -> Int) throws(MediaError) -> Format {
        guard declared >= 16 else { throw corrupt("the fmt chunk is \(declared) bytes, at least 16 expected") }
        var tag = field(0, 2)
        let channels = field(2, 2)
        let sampleRate = field(4, 4)
        let blockAlign = field(12, 2)
        let bits = field(14, 2)
        if tag == Format.extensibleTag {
            // WAVE_FORMAT_EXTENSIBLE: the real tag opens the sub-format GUID;
            // without one the encoding is unknown, so not linear.
            tag = declared >= 26 ? field(24, 2) : Format.extensibleTag
        }
        let format = Format(formatTag: tag, channels: channels, sampleRate: sampleRate, blockAlign: blockAlign,
                            bitsPerSample: bits)
        guard channels > 0 else { throw corrupt("the WAV header declares 0 channels") }
        guard sampleRate > 0 else { throw corrupt("the WAV header declares a sample rate of 0 Hz") }
        guard blockAlign > 0 else { throw corrupt("the WAV header declares a block_align of 0 bytes per frame") }
        // Compressed encodings (MP3 in WAV, …) may leave bits per sample at 0.
        guard bits > 0 || !format.isLinear else { throw corrupt("the WAV header declares 0 bits per sample") }
        return format
    }

    static func corrupt(_ detail: String) -> MediaError {
        MediaError(.corrupt, "not a valid WAV file: \(detail)")
    }
}
