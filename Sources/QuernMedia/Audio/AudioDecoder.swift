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
        if isWave, let headerFrames = (try? WaveHeader(bytes))?.declaredFrames {
            declaredFrames = max(headerFrames, declaredFrames ?? 0)
        }
        let maxFrames = Int(min(limits.maxSeconds * Double(sourceRate), Double(Int.max / 2)))
        if let declaredFrames, declaredFrames > maxFrames {
            throw MediaError(.tooLarge, "the audio lasts \(seconds(declaredFrames, sourceRate)) s; the limit is \(limits.maxSeconds) s")
        }

        var notes: [String] = []
        let resampler = Resampler.shared(inputRate: sourceRate, outputRate: targetSampleRate)
        let read = try readConverted(file, channels: channels, resampler: resampler, maxFrames: maxFrames,
                                     limits: limits)
        let decodedFrames = read.frames
        var isComplete = true
        if let declaredFrames, decodedFrames < declaredFrames {
            isComplete = false
            notes.append("header declares \(declaredFrames) frames; \(decodedFrames) decoded (\(seconds(decodedFrames, sourceRate)) of \(seconds(declaredFrames, sourceRate)) s)")
        }
        if let readError = read.error {
            isComplete = false
            notes.append("decoding stopped after \(decodedFrames) frames: \(readError)")
        }
        guard decodedFrames > 0 else {
            if let declaredFrames, declaredFrames > 0 {
                throw MediaError(.corrupt, "the header declares \(declaredFrames) frames but none could be decoded\(read.error.map { ": " + $0 } ?? "")")
            }
            throw MediaError(.empty, "the file holds no audio frames")
        }
        if read.nonFinite > 0 { notes.append("replaced \(read.nonFinite) non-finite samples (NaN or infinity) with 0") }
        if channels > 1 { notes.append("downmixed \(channels) channels to mono (mean)") }
        if sourceRate != targetSampleRate { notes.append("resampled \(sourceRate) → \(targetSampleRate) Hz") }
        let samples = read.samples

        let source = AudioSourceInfo(
            container: file.formatName(file.majorFormat), encoding: file.formatName(file.subtype),
            isExtensible: file.majorFormat == Int32(SF_FORMAT_WAVEX),
            sampleRate: sourceRate, channels: channels, frames: decodedFrames, declaredFrames: declaredFrames)
        return DecodedAudio(samples: samples, sampleRate: targetSampleRate, source: source, notes: notes,
                            isComplete: isComplete)
    }

    /// What reading produced: samples at the target rate, frames decoded at
    /// the source rate, NaN/infinity samples zeroed, and the error that
    /// stopped reading early, if any.
    struct ReadResult {
        var samples: [Float]
        var frames: Int
        var nonFinite: Int
        var error: String?
    }

    /// Reads every frame, averaging the channels and resampling block by
    /// block, so neither the multichannel nor the source-rate signal is ever
    /// held whole. Stops with `.tooLarge` as soon as the decoded length passes
    /// the limit (for streams whose header gave no length, or a wrong one).
    static func readConverted(
        _ file: SoundFile, channels: Int, resampler: Resampler, maxFrames: Int, limits: AudioLimits
    ) throws(MediaError) -> ReadResult {
        var stream = StreamingResampler(resampler)
        var interleaved = [Float](repeating: 0, count: chunkFrames * channels)
        var mono = [Float](repeating: 0, count: chunkFrames)
        var frames = 0, nonFinite = 0
        while true {
            let read = interleaved.withUnsafeMutableBufferPointer { buffer in
                file.readFrames(into: buffer.baseAddress!, frames: chunkFrames)
            }
            guard read > 0 else { break }
            guard frames + read <= maxFrames else {
                throw MediaError(.tooLarge, "the audio runs past the limit of \(limits.maxSeconds) s")
            }
            frames += read
            nonFinite += interleaved.withUnsafeBufferPointer { source in
                mono.withUnsafeMutableBufferPointer { destination in
                    downmix(source.baseAddress!, frames: read, channels: channels, into: destination.baseAddress!)
                }
            }
            mono.withUnsafeBufferPointer { stream.append(UnsafeBufferPointer(rebasing: $0[0..<read])) }
        }
        return ReadResult(samples: stream.finish(), frames: frames, nonFinite: nonFinite, error: file.readError)
    }

    /// Mean of the channels of `frames` interleaved frames into `mono`, with
    /// NaN and ±infinity (possible in float WAV data) set to 0; returns how
    /// many values were replaced.
    private static func downmix(_ interleaved: UnsafePointer<Float>, frames: Int, channels: Int,
                                into mono: UnsafeMutablePointer<Float>) -> Int {
        if channels == 1 {
            mono.update(from: interleaved, count: frames)
        } else {
            let divisor = Float(channels)
            for frame in 0..<frames {
                let base = interleaved + frame * channels
                var sum: Float = 0
                for channel in 0..<channels { sum += base[channel] }
                mono[frame] = sum / divisor
            }
        }
        var replaced = 0
        for index in 0..<frames where !mono[index].isFinite {
            mono[index] = 0
            replaced += 1
        }
        return replaced
    }

    private static func seconds(_ frames: Int, _ rate: Int) -> String {
        let value = Double(frames) / Double(rate)
        return String(Double((value * 1000).rounded()) / 1000)
    }
}
