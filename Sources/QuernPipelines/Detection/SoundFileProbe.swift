import CSndFile

/// What libsndfile reports about an audio file it can open.
public struct SoundFileInfo: Sendable, Equatable {
    public var frames: Int64
    public var sampleRate: Int
    public var channels: Int

    public var seconds: Double { sampleRate > 0 ? Double(frames) / Double(sampleRate) : 0 }
}

/// Asks libsndfile whether it can open bytes held in memory (WAV, FLAC, OGG,
/// AIFF, …), through its virtual I/O interface so nothing touches the disk.
/// Only the header is parsed; no sample is decoded here.
public enum SoundFileProbe {
    public static func inspect(_ bytes: [UInt8]) -> SoundFileInfo? {
        let stream = MemoryStream(bytes)
        var io = SF_VIRTUAL_IO(
            get_filelen: { context in MemoryStream.from(context)?.length ?? -1 },
            seek: { offset, whence, context in MemoryStream.from(context)?.seek(offset, whence: whence) ?? -1 },
            read: { destination, count, context in MemoryStream.from(context)?.read(into: destination, count: count) ?? 0 },
            write: { _, _, _ in 0 },
            tell: { context in MemoryStream.from(context)?.position ?? -1 })
        var info = SF_INFO()
        let opened = withExtendedLifetime(stream) {
            sf_open_virtual(&io, Int32(SFM_READ), &info, Unmanaged.passUnretained(stream).toOpaque())
        }
        guard let handle = opened else { return nil }
        sf_close(handle)
        guard info.channels > 0, info.samplerate > 0, info.frames >= 0 else { return nil }
        return SoundFileInfo(frames: info.frames, sampleRate: Int(info.samplerate), channels: Int(info.channels))
    }
}

/// The read-only file libsndfile sees through its callbacks.
private final class MemoryStream {
    let bytes: [UInt8]
    var position: sf_count_t = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var length: sf_count_t { sf_count_t(bytes.count) }

    /// libsndfile hands back the pointer `inspect` passed in, which the
    /// caller keeps alive for the whole call.
    static func from(_ context: UnsafeMutableRawPointer?) -> MemoryStream? {
        context.map { Unmanaged<MemoryStream>.fromOpaque($0).takeUnretainedValue() }
    }

    func seek(_ offset: sf_count_t, whence: Int32) -> sf_count_t {
        let base: sf_count_t
        switch whence {
        case SEEK_SET: base = 0
        case SEEK_CUR: base = position
        case SEEK_END: base = length
        default: return -1
        }
        let target = base + offset
        guard target >= 0 else { return -1 }
        position = target
        return position
    }

    func read(into destination: UnsafeMutableRawPointer?, count: sf_count_t) -> sf_count_t {
        guard let destination, count > 0, position < length else { return 0 }
        let available = min(count, length - position)
        bytes.withUnsafeBytes { source in
            guard let base = source.baseAddress else { return }
            destination.copyMemory(from: base + Int(position), byteCount: Int(available))
        }
        position += available
        return available
    }
}
