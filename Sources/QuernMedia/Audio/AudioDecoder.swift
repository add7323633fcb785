import CSndFile

/// Decodes any audio file libsndfile opens — WAV in all its PCM/float/
/// extensible forms, FLAC, Ogg Vorbis/Opus, MP3, AIFF, … — from memory into
/// mono float samples at a target rate: channels are averaged ((L+R)/2 for
/// stereo) and the rate is changed by the band-limited `Resampler`.
///
/// Hostile input never crashes it and is never passed off as whole: a
/// zero-byte file is `.empty`, something that is not audio `.unrecognized`,
/// a header that cannot be parsed `.corrupt`; a file that ends before the
/// length its header declares decodes what is there with `isComplete` false
/// and a note such as "header declares 480000 frames; 120000 decoded".
public enum AudioDecoder {
    /// Frames read from libsndfile per call.
    static let chunkFrames = 16_384

    public static func decode(_ bytes: [UInt8], targetSampleRate: Int = 16_000,
                              limits: AudioLimits) throws(MediaError) -> DecodedAudio {
        guard targetSampleRate > 0, targetSampleRate <= limits.maxSampleRate else {
            throw MediaError(.unsupported, "target sample rate \(targetSampleRate) Hz is outside 1…\(limits.maxSampleRate)")
        }
        guard !bytes.isEmpty else { throw MediaError(.empty, "the file is empty (zero bytes)") }

        let file = try SoundFile.open(bytes)
        defer { file.close() }
        let channels = file.channels, sourceRate = file.sampleRate
        guard channels > 0, sourceRate > 0 else {
            throw MediaError(.corrupt, "the header gives \(channels) channels at \(sourceRate) Hz")
        }
        guard channels <= limits.maxChannels else {
            throw MediaError(.tooLarge, "\(channels) channels; the limit is \(limits.maxChannels)")
        }
        guard sourceRate <= limits.maxSampleRate else {
            throw MediaError(.tooLarge, "sample rate \(sourceRate) Hz; the limit is \(limits.maxSampleRate) Hz")
        }

        // What the header promises: libsndfile's count, or for WAVE the data
        // chunk's own size (libsndfile shortens its count to fit the file).
        let isWave = file.majorFormat == Int32(SF_FORMAT_WAV)
            || file.majorFormat == Int32(SF_FORMAT_WAVEX)
            || file.majorFormat == Int32(SF_FORMAT_RF64)
        var declaredFrames = file.frames
        if isWave, let headerFrames = WaveHeader.declaredFrames(bytes) {
            declaredFrames = max(headerFrames, declaredFrames ?? 0)
        }
        let maxFrames = Int(min(limits.maxSeconds * Double(sourceRate), Double(Int.max / 2)))
        if let declaredFrames, declaredFrames > maxFrames {
            throw MediaError(.tooLarge, "the audio lasts \(seconds(declaredFrames, sourceRate)) s; the limit is \(limits.maxSeconds) s")
        }

        var notes: [String] = []
        let (mono, readError) = try readMono(file, channels: channels, sourceRate: sourceRate,
                                             maxFrames: maxFrames, limits: limits, expected: declaredFrames)
        let decodedFrames = mono.count
        var isComplete = true
        if let declaredFrames, decodedFrames < declaredFrames {
            isComplete = false
            notes.append("header declares \(declaredFrames) frames; \(decodedFrames) decoded (\(seconds(decodedFrames, sourceRate)) of \(seconds(declaredFrames, sourceRate)) s)")
        }
        if let readError {
            isComplete = false
            notes.append("decoding stopped after \(decodedFrames) frames: \(readError)")
        }
        guard decodedFrames > 0 else {
            if let declaredFrames, declaredFrames > 0 {
                throw MediaError(.corrupt, "the header declares \(declaredFrames) frames but none could be decoded\(readError.map { ": " + $0 } ?? "")")
            }
            throw MediaError(.empty, "the file holds no audio frames")
        }

        var samples = mono
        let replaced = replaceNonFinite(&samples)
        if replaced > 0 { notes.append("replaced \(replaced) non-finite samples (NaN or infinity) with 0") }
        if channels > 1 { notes.append("downmixed \(channels) channels to mono (mean)") }
        if sourceRate != targetSampleRate {
            samples = Resampler(inputRate: sourceRate, outputRate: targetSampleRate).process(samples)
            notes.append("resampled \(sourceRate) → \(targetSampleRate) Hz")
        }

        let source = AudioSourceInfo(
            container: file.formatName(file.majorFormat), encoding: file.formatName(file.subtype),
            isExtensible: file.majorFormat == Int32(SF_FORMAT_WAVEX),
            sampleRate: sourceRate, channels: channels, frames: decodedFrames, declaredFrames: declaredFrames)
        return DecodedAudio(samples: samples, sampleRate: targetSampleRate, source: source, notes: notes,
                            isComplete: isComplete)
    }

    /// Reads every frame, averaging the channels as it goes so the
    /// multichannel signal is never held whole. Stops with `.tooLarge` as
    /// soon as the decoded length passes the limit (for streams whose header
    /// gave no length, or gave a wrong one).
    private static func readMono(
        _ file: SoundFile, channels: Int, sourceRate: Int, maxFrames: Int, limits: AudioLimits, expected: Int?
    ) throws(MediaError) -> (samples: [Float], error: String?) {
        var mono: [Float] = []
        mono.reserveCapacity(min(expected ?? 0, maxFrames))
        var interleaved = [Float](repeating: 0, count: chunkFrames * channels)
        let divisor = Float(channels)
        while true {
            let read = interleaved.withUnsafeMutableBufferPointer { buffer in
                file.readFrames(into: buffer.baseAddress!, frames: chunkFrames)
            }
            guard read > 0 else { break }
            guard mono.count + read <= maxFrames else {
                throw MediaError(.tooLarge, "the audio runs past the limit of \(limits.maxSeconds) s")
            }
            if channels == 1 {
                mono.append(contentsOf: interleaved[0..<read])
            } else {
                interleaved.withUnsafeBufferPointer { buffer in
                    for frame in 0..<read {
                        var sum: Float = 0
                        let base = frame * channels
                        for channel in 0..<channels { sum += buffer[base + channel] }
                        mono.append(sum / divisor)
                    }
                }
            }
        }
        return (mono, file.readError)
    }

    /// Sets NaN and ±infinity (possible in float WAV data) to 0; returns how many.
    private static func replaceNonFinite(_ samples: inout [Float]) -> Int {
        var replaced = 0
        for index in samples.indices where !samples[index].isFinite {
            samples[index] = 0
            replaced += 1
        }
        return replaced
    }

    private static func seconds(_ frames: Int, _ rate: Int) -> String {
        let value = Double(frames) / Double(rate)
        return String(Double((value * 1000).rounded()) / 1000)
    }
}
