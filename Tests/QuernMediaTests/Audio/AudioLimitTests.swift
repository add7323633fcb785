@testable import QuernMedia
import QuernTestSupport
import Testing

/// `--max-audio-seconds` against lying headers: durations come from frames
/// (data bytes over the frame size, or libsndfile's count) at the sample
/// rate, never from `byte_rate`, and the limit holds while decoding.
@Suite("Audio limits")
struct AudioLimitTests {
    static let tenSeconds = AudioLimits(maxSeconds: 10)

    /// 60 s whose byte_rate claims 60 times the real rate (the header "says" 1 s).
    @Test func falseByteRateDoesNotShortenTheDuration() {
        let bytes = HostileMedia.wav(frames: 60 * 16_000, byteRate: 60 * 32_000)
        do {
            _ = try AudioDecoder.decode(bytes, limits: Self.tenSeconds)
            Issue.record("60 s passed a 10 s limit")
        } catch {
            #expect(error.kind == .tooLarge, "\(error)")
        }
    }

    /// A streaming WAV (data size 0xFFFFFFFF) holding 60 s.
    @Test func streamingDataSizeIsCountedFromTheBytes() {
        let bytes = HostileMedia.wav(frames: 60 * 16_000, dataSize: 0xFFFF_FFFF)
        #expect(throws: MediaError.self) { try AudioDecoder.decode(bytes, limits: Self.tenSeconds) }
    }

    /// Whatever a header declared, reading stops at the limit: 60 s of frames
    /// read with a 10 s budget fail after 10 s, with the too-large code.
    @Test func decodingStopsAtTheLimit() throws {
        let bytes = HostileMedia.wav(frames: 60 * 16_000)
        let file = try SoundFile.open(bytes)
        defer { file.close() }
        do {
            _ = try AudioDecoder.readConverted(file, channels: 1, resampler: Resampler.shared(inputRate: 16_000, outputRate: 16_000),
                                               maxFrames: 10 * 16_000, limits: Self.tenSeconds)
            Issue.record("reading went past the limit")
        } catch {
            #expect(error.kind == .tooLarge && error.message.contains("limit of 10.0 s"), "\(error)")
        }
    }

    @Test func withinTheLimitDecodes() throws {
        let audio = try AudioDecoder.decode(HostileMedia.wav(frames: 5 * 16_000, byteRate: 1), limits: Self.tenSeconds)
        #expect(audio.source.frames == 5 * 16_000)
    }
}
