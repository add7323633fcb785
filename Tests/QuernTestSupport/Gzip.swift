import CZlib

/// Reads the gzip files some test references are committed as (a table that
/// is 8 MB as text, 1 MB compressed).
public enum Gzip {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public static func decompress(_ compressed: [UInt8]) throws(Failure) -> [UInt8] {
        var stream = z_stream()
        // 16 + 15: a gzip wrapper around a deflate stream with the largest window.
        guard inflateInit2_(&stream, 16 + 15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw Failure(description: "inflateInit2 failed")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var input = compressed
        var status = Z_OK
        input.withUnsafeMutableBufferPointer { source in
            stream.next_in = source.baseAddress
            stream.avail_in = UInt32(source.count)
            while status == Z_OK {
                buffer.withUnsafeMutableBufferPointer { target in
                    stream.next_out = target.baseAddress
                    stream.avail_out = UInt32(target.count)
                    status = inflate(&stream, Z_NO_FLUSH)
                    output += target[0..<(target.count - Int(stream.avail_out))]
                }
            }
        }
        guard status == Z_STREAM_END else { throw Failure(description: "gzip data is damaged (zlib status \(status))") }
        return output
    }
}
