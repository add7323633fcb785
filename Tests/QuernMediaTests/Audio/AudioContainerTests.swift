import CSndFile
import Foundation
import QuernMedia
import Testing
import QuernTestSupport

/// Containers and codecs beyond the sox-made corpus — AIFF, CAF, W64, RF64,
/// AU, 24-bit FLAC, Ogg Opus — written here through libsndfile itself from a
/// corpus utterance, then decoded from memory and compared with the source.
@Suite("Audio containers written by libsndfile", .serialized)
struct AudioContainerTests {
    /// Writes `samples` (mono, `rate`; multiples of 1/32768) as `format` to a
    /// temporary file and returns its bytes. PCM encodings get int16 input
    /// (libsndfile's float-to-PCM path scales by 32767, which would not
    /// round-trip); float encodings get the floats themselves.
    static func write(_ samples: [Float], rate: Int, format: Int32) throws -> [UInt8] {
        let path = NSTemporaryDirectory() + "quern-audio-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        var info = SF_INFO()
        info.samplerate = Int32(rate)
        info.channels = 1
        info.format = format
        guard let handle = sf_open(path, Int32(SFM_WRITE), &info) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: String(cString: sf_strerror(nil))])
        }
        let subtype = format & Int32(SF_FORMAT_SUBMASK)
        if subtype == Int32(SF_FORMAT_FLOAT) || subtype == Int32(SF_FORMAT_DOUBLE) {
            _ = samples.withUnsafeBufferPointer { sf_writef_float(handle, $0.baseAddress, sf_count_t(samples.count)) }
        } else {
            let pcm = samples.map { Int16(($0 * 32768).rounded()) }
            _ = pcm.withUnsafeBufferPointer { sf_writef_short(handle, $0.baseAddress, sf_count_t(pcm.count)) }
        }
        sf_close(handle)
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    static let source: [Float] = {
        (try? AudioDecoder.decode(try SpeechCorpus.bytes("speech01_us_short.wav"), limits: .standard).samples) ?? []
    }()

    @Test(arguments: [
        ("AIFF 16-bit", Int32(SF_FORMAT_AIFF | SF_FORMAT_PCM_16), "AIFF"),
        ("AIFF float", Int32(SF_FORMAT_AIFF | SF_FORMAT_FLOAT), "AIFF"),
        ("CAF 16-bit", Int32(SF_FORMAT_CAF | SF_FORMAT_PCM_16), "CAF"),
        ("W64 24-bit", Int32(SF_FORMAT_W64 | SF_FORMAT_PCM_24), "W64"),
        ("RF64 float", Int32(SF_FORMAT_RF64 | SF_FORMAT_FLOAT), "RF64"),
        ("AU 16-bit", Int32(SF_FORMAT_AU | SF_FORMAT_PCM_16), "AU"),
        ("FLAC 24-bit", Int32(SF_FORMAT_FLAC | SF_FORMAT_PCM_24), "FLAC"),
        ("WAV double", Int32(SF_FORMAT_WAV | SF_FORMAT_DOUBLE), "WAV"),
    ])
    func losslessContainerDecodesExactly(label: String, format: Int32, container: String) throws {
        let source = Self.source
        try #require(!source.isEmpty)
        let bytes = try Self.write(source, rate: 16_000, format: format)
        let audio = try AudioDecoder.decode(bytes, limits: .standard)
        #expect(audio.source.container.contains(container), "\(label): \(audio.source.container)")
        #expect(audio.samples.count == source.count, "\(label)")
        let comparison = SignalComparison(audio.samples, reference: source)
        #expect(comparison.maxError == 0, "\(label): \(comparison)")
        #expect(audio.isComplete && audio.notes.isEmpty, "\(label): \(audio.notes)")
    }

    /// Ogg Opus (lossy, 48 kHz internally): the decode keeps the length and
    /// the waveform to within what the codec changes.
    @Test func oggOpusDecodes() throws {
        let source = Self.source
        try #require(!source.isEmpty)
        let bytes = try Self.write(source, rate: 16_000, format: Int32(SF_FORMAT_OGG | SF_FORMAT_OPUS))
        let audio = try AudioDecoder.decode(bytes, limits: .standard)
        #expect(audio.source.encoding.contains("Opus"), "\(audio.source.encoding)")
        #expect(abs(audio.samples.count - source.count) <= 960, "\(audio.samples.count) vs \(source.count)")
        let comparison = SignalComparison(audio.samples, reference: source)
        print("audio Ogg Opus round trip: \(audio.source.sampleRate) Hz, \(audio.samples.count) samples, \(comparison), notes \(audio.notes)")
        #expect(comparison.snrDecibels > 10, "\(comparison)")
    }

    /// Truncating a FLAC stream: what is decoded is reported, never passed off as whole.
    @Test func truncatedFlacSaysWhatWasRecovered() throws {
        let bytes = try Self.write(Self.source, rate: 16_000, format: Int32(SF_FORMAT_FLAC | SF_FORMAT_PCM_16))
        let cut = Array(bytes.prefix(bytes.count / 2))
        do {
            let audio = try AudioDecoder.decode(cut, limits: .standard)
            #expect(!audio.isComplete)
            #expect(audio.samples.count < Self.source.count)
            #expect(audio.notes.contains { $0.hasPrefix("header declares \(Self.source.count) frames;") }, "\(audio.notes)")
        } catch {
            #expect(error.kind == .corrupt, "\(error)")
        }
    }
}
