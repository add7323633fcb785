import QuernMedia
import Testing

/// The decoder on small WAVE files built in memory, where every sample is known.
@Suite("Audio decoder")
struct AudioDecoderTests {
    @Test func sixteenBitIsDividedBy32768() throws {
        let bytes = WaveBuilder().build(data: pcm16([0, 16384, -32768, 32767, -1]))
        let audio = try AudioDecoder.decode(bytes, limits: .standard)
        #expect(audio.samples == [0, 0.5, -1, Float(32767) / 32768, Float(-1) / 32768])
        #expect(audio.source.container.hasPrefix("WAV"))
        #expect(audio.source.frames == 5 && audio.source.declaredFrames == 5)
        #expect(audio.notes.isEmpty && audio.isComplete)
    }

    @Test func unsignedEightBitIsCentred() throws {
        var builder = WaveBuilder()
        builder.bitsPerSample = 8
        let audio = try AudioDecoder.decode(builder.build(data: [128, 255, 0, 192]), limits: .standard)
        #expect(audio.samples == [0, Float(127) / 128, -1, 0.5])
    }

    @Test func twentyFourBitKeepsItsPrecision() throws {
        var builder = WaveBuilder()
        builder.bitsPerSample = 24
        // 0x000001 (one 24-bit step) and 0x400000 (half scale).
        let audio = try AudioDecoder.decode(builder.build(data: [1, 0, 0, 0, 0, 0x40]), limits: .standard)
        #expect(audio.samples == [Float(1) / 8_388_608, 0.5])
    }

    @Test func stereoIsTheMeanOfTheChannels() throws {
        var builder = WaveBuilder()
        builder.channels = 2
        let audio = try AudioDecoder.decode(builder.build(data: pcm16([16384, 0, -16384, -16384, 8192, 24576])),
                                            limits: .standard)
        #expect(audio.samples == [0.25, -0.5, 0.5])
        #expect(audio.notes == ["downmixed 2 channels to mono (mean)"])
        #expect(audio.source.channels == 2 && audio.source.frames == 3)
    }

    @Test func threeChannelsAreAveraged() throws {
        var builder = WaveBuilder()
        builder.channels = 3
        builder.extensibleSubformat = 1
        let audio = try AudioDecoder.decode(builder.build(data: pcm16([3 * 1024, 0, 0])), limits: .standard)
        #expect(audio.samples == [Float(1024) / 32768])
        #expect(audio.source.isExtensible)
    }

    @Test func extensibleFloatAndOddChunks() throws {
        var builder = WaveBuilder()
        builder.bitsPerSample = 32
        builder.extensibleSubformat = 3
        builder.extraChunks = [("LIST", Array("odd".utf8)), ("junk", [1, 2, 3, 4, 5, 6, 7])]
        let values: [Float] = [0.25, -0.75, 1.5]
        let audio = try AudioDecoder.decode(builder.build(data: float32Bytes(values)), limits: .standard)
        #expect(audio.samples == values)
        #expect(audio.source.isExtensible)
    }

    @Test func nonFiniteFloatSamplesBecomeZeroAndAreReported() throws {
        var builder = WaveBuilder()
        builder.formatTag = 3
        builder.bitsPerSample = 32
        let audio = try AudioDecoder.decode(builder.build(data: float32Bytes([.nan, 0.5, .infinity])), limits: .standard)
        #expect(audio.samples == [0, 0.5, 0])
        #expect(audio.notes.contains("replaced 2 non-finite samples (NaN or infinity) with 0"))
    }

    @Test func headerThatPromisesMoreSaysWhatWasDecoded() throws {
        var builder = WaveBuilder()
        builder.declaredDataSize = 2 * 48_000
        let audio = try AudioDecoder.decode(builder.build(data: pcm16(Array(repeating: 100, count: 16_000))),
                                            limits: .standard)
        #expect(!audio.isComplete)
        #expect(audio.samples.count == 16_000)
        #expect(audio.source.declaredFrames == 48_000)
        #expect(audio.notes.first == "header declares 48000 frames; 16000 decoded (1.0 of 3.0 s)")
    }

    @Test func headerWithNoSamplesAtAllIsCorrupt() {
        var builder = WaveBuilder()
        builder.declaredDataSize = 32_000
        #expect(throws: MediaError.self) { try AudioDecoder.decode(builder.build(data: []), limits: .standard) }
        do {
            _ = try AudioDecoder.decode(builder.build(data: []), limits: .standard)
        } catch {
            #expect(error.kind == .corrupt || error.kind == .empty, "\(error)")
        }
    }

    @Test func emptyAndNonAudioInputs() {
        #expect(throws: MediaError(.empty, "the file is empty (zero bytes)")) {
            try AudioDecoder.decode([], limits: .standard)
        }
        do {
            _ = try AudioDecoder.decode(Array("just some text, not a sound".utf8), limits: .standard)
            Issue.record("text decoded as audio")
        } catch {
            #expect(error.kind == .unrecognized, "\(error)")
        }
        do {
            _ = try AudioDecoder.decode(WaveBuilder().build(data: []), limits: .standard)
            Issue.record("a WAVE file without samples decoded")
        } catch {
            #expect(error.kind == .empty, "\(error)")
        }
    }

    @Test func durationLimitIsCheckedFromTheHeader() {
        let bytes = WaveBuilder().build(data: pcm16(Array(repeating: 0, count: 32_000)))
        do {
            _ = try AudioDecoder.decode(bytes, limits: AudioLimits(maxSeconds: 1.5))
            Issue.record("2 s decoded under a 1.5 s limit")
        } catch {
            #expect(error.kind == .tooLarge, "\(error)")
        }
        var builder = WaveBuilder()
        builder.declaredDataSize = 0xFFFF_FFF0   // a lying header is refused before decoding
        do {
            _ = try AudioDecoder.decode(builder.build(data: pcm16([1, 2, 3])), limits: AudioLimits(maxSeconds: 60))
            Issue.record("a header declaring 37 hours passed a 60 s limit")
        } catch {
            #expect(error.kind == .tooLarge, "\(error)")
        }
        #expect(throws: Never.self) { try AudioDecoder.decode(bytes, limits: AudioLimits(maxSeconds: 2)) }
    }

    @Test func channelAndRateLimits() {
        var builder = WaveBuilder()
        builder.channels = 8
        builder.extensibleSubformat = 1
        do {
            _ = try AudioDecoder.decode(builder.build(data: pcm16(Array(repeating: 0, count: 8))),
                                        limits: AudioLimits(maxChannels: 4))
            Issue.record("8 channels passed a 4-channel limit")
        } catch {
            #expect(error.kind == .tooLarge)
        }
    }

    @Test func resamplingIsReported() throws {
        var builder = WaveBuilder()
        builder.sampleRate = 48_000
        let audio = try AudioDecoder.decode(builder.build(data: pcm16(Array(repeating: 8192, count: 48_000))),
                                            limits: .standard)
        #expect(audio.sampleRate == 16_000 && audio.samples.count == 16_000)
        #expect(audio.notes == ["resampled 48000 → 16000 Hz"])
        // A constant stays constant away from the edges.
        #expect(audio.samples[8000] == 0.25 || abs(audio.samples[8000] - 0.25) < 1e-6)
        #expect(audio.source.durationSeconds == 1)
    }
}
