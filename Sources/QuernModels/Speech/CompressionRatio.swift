import CZlib

/// How repetitive a transcript is, as faster-whisper measures it: the UTF-8
/// byte count of `text` divided by the byte count of its zlib stream
/// (`zlib.compress` at the default level 6). A window whose ratio exceeds
/// 2.4 is a likely repetition loop; the ratio is reported with each segment.
public func whisperCompressionRatio(_ text: String) -> Double {
    let bytes = Array(text.utf8)
    var capacity = compressBound(uLong(bytes.count))
    var output = [UInt8](repeating: 0, count: Int(capacity))
    let status = output.withUnsafeMutableBufferPointer { target in
        bytes.withUnsafeBufferPointer { source in
            compress2(target.baseAddress, &capacity, source.baseAddress, uLong(source.count), Z_DEFAULT_COMPRESSION)
        }
    }
    // compress2 only fails for lack of memory or a too-small buffer, which
    // compressBound rules out; an empty ratio is then the honest answer.
    guard status == Z_OK, capacity > 0 else { return 0 }
    return Double(bytes.count) / Double(capacity)
}
