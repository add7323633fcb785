import FuzzSupport
import QuernMedia

// Audio (WAV and anything libsndfile reads) → mono float at 16 kHz, as
// TranscriptionPipeline.prepare does, with small limits: 5 s, 8 channels,
// 192 kHz (the daemon's are 1 h, 64 channels, 768 kHz).
let limits = AudioLimits(maxSeconds: 5, maxChannels: 8, maxSampleRate: 192_000)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = FuzzInput.bytes(data, size)
    blackHole(SoundFileProbe.inspect(bytes))
    blackHole(try? WAVProbe.inspect(bytes))
    guard let audio = try? AudioDecoder.decode(bytes, targetSampleRate: 16_000, limits: limits) else { return 0 }
    precondition(audio.samples.count <= 5 * 16_000 + 16_000, "\(audio.samples.count) samples from a 5 s limit")
    blackHole(audio.notes)
    return 0
}
