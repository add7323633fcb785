import Foundation
import QuernMedia
import Testing
import QuernTestSupport

/// Every file of the generated speech corpus through `AudioDecoder`, checked
/// against what faster-whisper 1.2.1's `decode_audio` (PyAV/FFmpeg) made of it.
@Suite("Audio corpus decoding", .serialized)
struct AudioCorpusTests {
    @Test func everyCorpusFileDecodesOrFailsWithItsCode() throws {
        let entries = try SpeechCorpus.manifest()
        #expect(entries.filter { $0.kind == "speech" }.count >= 20)
        for entry in entries {
            let bytes = try SpeechCorpus.bytes(entry.file)
            do {
                let audio = try AudioDecoder.decode(bytes, limits: .standard)
                #expect(entry.expect == "decodes", "\(entry.file) decoded but should fail with \(entry.expect)")
                #expect(audio.sampleRate == 16_000)
                #expect(!audio.samples.isEmpty)
                #expect(audio.samples.allSatisfy { $0.isFinite && abs($0) <= 1.5 }, "\(entry.file)")
            } catch {
                #expect(entry.expect == error.code, "\(entry.file): \(error)")
            }
        }
    }

    /// Plain 16 kHz 16-bit mono files: libsndfile's pcm/32768 is exactly
    /// faster-whisper's int16/32768 — same count, sum, energy and peak.
    @Test func sixteenKilohertzFilesMatchFasterWhisperExactly() throws {
        for entry in try SpeechCorpus.manifest() where ["speech", "silence", "tone", "noise"].contains(entry.kind) {
            let audio = try AudioDecoder.decode(try SpeechCorpus.bytes(entry.file), limits: .standard)
            let reference = try #require(AudioGoldens.file(entry.file)?["audio"] as? [String: Any], "\(entry.file)")
            var sum = 0.0, energy = 0.0, peak = 0.0
            for sample in audio.samples {
                sum += Double(sample)
                energy += Double(sample) * Double(sample)
                peak = max(peak, Double(abs(sample)))
            }
            #expect(audio.samples.count == reference["count"] as? Int, "\(entry.file)")
            #expect(abs(sum - (AudioGoldens.double(reference["sum"]) ?? .nan)) < 1e-6, "\(entry.file)")
            #expect(abs(energy - (AudioGoldens.double(reference["sum_sq"]) ?? .nan)) < 1e-6, "\(entry.file)")
            #expect(peak == AudioGoldens.double(reference["max_abs"]), "\(entry.file)")
            #expect(audio.notes.isEmpty && audio.isComplete, "\(entry.file): \(audio.notes)")
            #expect(audio.source.channels == 1 && audio.source.sampleRate == 16_000)
        }
    }

    /// What each format variant reports about itself.
    @Test(arguments: [
        ("fmt_u8.wav", "Unsigned 8 bit PCM", 1, 16_000, false),
        ("fmt_s24.wav", "Signed 24 bit PCM", 1, 16_000, false),
        ("fmt_s24_extensible.wav", "Signed 24 bit PCM", 1, 16_000, true),
        ("fmt_s32.wav", "Signed 32 bit PCM", 1, 16_000, false),
        ("fmt_f32.wav", "32 bit float", 1, 16_000, false),
        ("fmt_f64.wav", "64 bit float", 1, 16_000, false),
        ("fmt_f32_extensible.wav", "32 bit float", 1, 16_000, true),
        ("fmt_stereo.wav", "Signed 16 bit PCM", 2, 16_000, false),
        ("fmt_quad_extensible.wav", "Signed 16 bit PCM", 4, 16_000, true),
        ("fmt_rate_8000.wav", "Signed 16 bit PCM", 1, 8000, false),
        ("fmt_rate_22050.wav", "Signed 16 bit PCM", 1, 22050, false),
        ("fmt_rate_44100.wav", "Signed 16 bit PCM", 1, 44100, false),
        ("fmt_rate_48000.wav", "Signed 16 bit PCM", 1, 48000, false),
        ("fmt_stereo_44100.wav", "Signed 16 bit PCM", 2, 44100, false),
        ("fmt_flac.flac", "Signed 16 bit PCM", 1, 16_000, false),
        ("fmt_vorbis.ogg", "Vorbis", 1, 16_000, false),
        ("fmt_mp3.mp3", "MPEG Layer III", 1, 16_000, false),
        ("fmt_odd_chunk.wav", "Signed 16 bit PCM", 1, 16_000, false),
    ])
    func formatVariantIsReported(file: String, encoding: String, channels: Int, rate: Int, extensible: Bool) throws {
        let audio = try AudioDecoder.decode(try SpeechCorpus.bytes(file), limits: .standard)
        #expect(audio.source.encoding.contains(encoding), "\(file): \(audio.source.encoding)")
        #expect(audio.source.channels == channels)
        #expect(audio.source.sampleRate == rate)
        #expect(audio.source.isExtensible == extensible, "\(file): \(audio.source.container)")
        #expect(audio.isComplete, "\(file): \(audio.notes)")
        #expect(audio.notes.contains { $0.hasPrefix("downmixed \(channels) channels") } == (channels > 1))
        #expect(audio.notes.contains("resampled \(rate) → 16000 Hz") == (rate != 16_000))
    }

    /// Each variant against faster-whisper's decoding of the same file (every
    /// 256th sample). faster-whisper rounds everything to int16 and resamples
    /// with FFmpeg's swr defaults, so the tolerances say how far apart two
    /// correct decoders may be; the measured numbers are printed.
    @Test(arguments: [
        // file, minimum SNR (dB), largest allowed sample difference
        ("fmt_u8.wav", 200.0, 1e-7),
        ("fmt_s24.wav", 200.0, 1e-7),
        ("fmt_s24_extensible.wav", 200.0, 1e-7),
        ("fmt_s32.wav", 200.0, 1e-7),
        ("fmt_f32.wav", 200.0, 1e-7),
        ("fmt_f64.wav", 200.0, 1e-7),
        ("fmt_f32_extensible.wav", 200.0, 1e-7),
        ("fmt_flac.flac", 200.0, 1e-7),
        ("fmt_odd_chunk.wav", 200.0, 1e-7),
        // (L+R)/2 of int16 is a half-integer that faster-whisper rounds: ≤ ½ LSB.
        ("fmt_stereo.wav", 70.0, 1.53e-5),
        ("fmt_quad_extensible.wav", 70.0, 1.53e-5),
        // libvorbis / libmpg123 against FFmpeg's own decoders, then int16.
        ("fmt_vorbis.ogg", 75.0, 5e-5),
        ("fmt_mp3.mp3", 75.0, 5e-5),
        // Two different resamplers: FFmpeg's swr defaults (16-tap-per-side
        // filter, cutoff 0.97) against ours (≈130 taps, ≥ 100 dB stopband).
        ("fmt_rate_8000.wav", 30.0, 0.03),
        ("fmt_rate_22050.wav", 42.0, 0.01),
        ("fmt_rate_44100.wav", 42.0, 0.01),
        ("fmt_rate_48000.wav", 42.0, 0.01),
        ("fmt_stereo_44100.wav", 42.0, 0.01),
    ])
    func formatVariantMatchesFasterWhisper(file: String, minimumSNR: Double, maximumError: Double) throws {
        let audio = try AudioDecoder.decode(try SpeechCorpus.bytes(file), limits: .standard)
        let golden = try #require(AudioGoldens.file(file))
        let stride = (AudioGoldens.root["sample_stride"] as? Int) ?? 256
        let reference = AudioGoldens.floats(golden["samples_strided"])
        let referenceCount = (golden["audio"] as? [String: Any])?["count"] as? Int ?? -1
        let ours = Swift.stride(from: 0, to: audio.samples.count, by: stride).map { audio.samples[$0] }
        let comparison = SignalComparison(ours, reference: reference)
        print("audio-vs-faster-whisper \(file): \(audio.samples.count) samples (faster-whisper \(referenceCount)), \(comparison)")
        #expect(audio.samples.count == referenceCount)
        #expect(comparison.snrDecibels >= minimumSNR, "\(file): \(comparison)")
        #expect(comparison.maxError <= maximumError, "\(file): \(comparison)")
    }

    /// The 22.05/44.1/48 kHz variants were made from the 16 kHz speech04 by
    /// sox's very-high-quality upsampling, so converting them back should
    /// give speech04 again: how close ours and faster-whisper's come.
    @Test(arguments: ["fmt_rate_22050.wav", "fmt_rate_44100.wav", "fmt_rate_48000.wav"])
    func resampledVariantReturnsToTheOriginal(file: String) throws {
        let original = try AudioDecoder.decode(try SpeechCorpus.bytes("speech04_rp_f2.wav"), limits: .standard).samples
        let audio = try AudioDecoder.decode(try SpeechCorpus.bytes(file), limits: .standard)
        let stride = (AudioGoldens.root["sample_stride"] as? Int) ?? 256
        let strided = Swift.stride(from: 0, to: original.count, by: stride).map { original[$0] }
        let ours = SignalComparison(audio.samples, reference: original)
        let theirs = SignalComparison(AudioGoldens.floats(AudioGoldens.file(file)?["samples_strided"]), reference: strided)
        print("resampled \(file) back to 16 kHz vs the original: ours \(ours); faster-whisper \(theirs)")
        #expect(ours.snrDecibels > theirs.snrDecibels, "ours \(ours), faster-whisper \(theirs)")
        #expect(ours.snrDecibels > 40)
    }

    @Test func truncatedFileSaysWhatWasRecovered() throws {
        let audio = try AudioDecoder.decode(try SpeechCorpus.bytes("broken_truncated.wav"), limits: .standard)
        #expect(!audio.isComplete)
        #expect(audio.source.frames == 128_000)
        #expect(audio.source.declaredFrames == 613_987)
        #expect(audio.notes.contains { $0.hasPrefix("header declares 613987 frames; 128000 decoded") }, "\(audio.notes)")
        #expect(audio.samples.count == 128_000)
        #expect(AudioGoldens.file("broken_truncated.wav").flatMap { ($0["audio"] as? [String: Any])?["count"] as? Int } == 128_000)
    }
}
