import CSndFile
import Synchronization

/// An audio file opened by libsndfile straight from memory, through its
/// virtual I/O callbacks: nothing touches the disk. Owns the libsndfile
/// handle; `close()` must be called once (the decoder does it with `defer`).
final class SoundFile {
    let handle: OpaquePointer
    let info: SF_INFO
    /// Kept alive for as long as libsndfile may call back into it.
    private let stream: MemoryByteStream

    private init(handle: OpaquePointer, info: SF_INFO, stream: MemoryByteStream) {
        self.handle = handle
        self.info = info
        self.stream = stream
    }

    /// libsndfile reports why an open failed through one process-wide error
    /// slot (`sf_error(NULL)`), so opens are serialised to keep each failure's
    /// reason its own. Decoding itself runs unlocked.
    private static let openLock = Mutex<Void>(())

    /// Opens `bytes` for reading, or says why libsndfile could not.
    static func open(_ bytes: [UInt8]) throws(MediaError) -> SoundFile {
        let stream = MemoryByteStream(bytes)
        var io = SF_VIRTUAL_IO(
            get_filelen: { context in MemoryByteStream.from(context)?.length ?? -1 },
            seek: { offset, whence, context in MemoryByteStream.from(context)?.seek(offset, whence: whence) ?? -1 },
            read: { destination, count, context in
                MemoryByteStream.from(context)?.read(into: destination, count: count) ?? 0
            },
            write: { _, _, _ in 0 },
            tell: { context in MemoryByteStream.from(context)?.position ?? -1 })
        var info = SF_INFO()
        // libsndfile copies the callback table; `stream` is retained by the
        // SoundFile returned, so the context pointer stays valid until close.
        let context = Unmanaged.passUnretained(stream).toOpaque()
        let (opened, code, reason) = withExtendedLifetime(stream) {
            openLock.withLock { _ -> (OpaquePointer?, Int, String) in
                let handle = sf_open_virtual(&io, Int32(SFM_READ), &info, context)
                if handle != nil { return (handle, 0, "") }
                return (nil, Int(sf_error(nil)), String(cString: sf_strerror(nil)))
            }
        }
        guard let handle = opened else {
            switch code {
            case Int(SF_ERR_UNRECOGNISED_FORMAT):
                throw MediaError(.unrecognized, "not an audio file libsndfile recognises (\(reason))")
            case Int(SF_ERR_UNSUPPORTED_ENCODING):
                throw MediaError(.unsupported, "audio encoding not supported (\(reason))")
            default:
                throw MediaError(.corrupt, "audio file could not be opened: \(reason)")
            }
        }
        return SoundFile(handle: handle, info: info, stream: stream)
    }

    func close() { sf_close(handle) }

    var channels: Int { Int(info.channels) }
    var sampleRate: Int { Int(info.samplerate) }
    /// Frames libsndfile expects, nil when the stream does not say.
    var frames: Int? {
        info.frames >= 0 && info.frames < sf_count_t.max ? Int(info.frames) : nil
    }
    var majorFormat: Int32 { info.format & Int32(SF_FORMAT_TYPEMASK) }
    var subtype: Int32 { info.format & Int32(SF_FORMAT_SUBMASK) }

    /// libsndfile's own name for a major format or subtype code.
    func formatName(_ code: Int32) -> String {
        var description = SF_FORMAT_INFO()
        description.format = code
        let status = sf_command(handle, Int32(SFC_GET_FORMAT_INFO), &description,
                                Int32(MemoryLayout<SF_FORMAT_INFO>.size))
        guard status == 0, let name = description.name else { return String(format: code) }
        return String(cString: name)
    }

    /// Reads up to `frames` interleaved frames as floats (PCM scaled to ±1);
    /// returns how many were read (0 at the end or on an error).
    func readFrames(into buffer: UnsafeMutablePointer<Float>, frames: Int) -> Int {
        Int(sf_readf_float(handle, buffer, sf_count_t(frames)))
    }

    /// The error that stopped reading, if any.
    var readError: String? {
        sf_error(handle) == 0 ? nil : String(cString: sf_strerror(handle))
    }
}

private extension String {
    init(format code: Int32) { self = "format 0x" + String(code, radix: 16) }
}

/// The read-only byte stream libsndfile sees through its callbacks.
private final class MemoryByteStream {
    let bytes: [UInt8]
    var position: sf_count_t = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var length: sf_count_t { sf_count_t(bytes.count) }

    static func from(_ context: UnsafeMutableRawPointer?) -> MemoryByteStream? {
        context.map { Unmanaged<MemoryByteStream>.fromOpaque($0).takeUnretainedValue() }
    }

    func seek(_ offset: sf_count_t, whence: Int32) -> sf_count_t {
        let base: sf_count_t
        switch whence {
        case SEEK_SET: base = 0
        case SEEK_CUR: base = position
        case SEEK_END: base = length
        default: return -1
        }
        let (target, overflow) = base.addingReportingOverflow(offset)
        guard !overflow, target >= 0 else { return -1 }
        position = target
        return position
    }

    /// Copies what is left up to `count` bytes; positions past the end read nothing.
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
