import QuernMedia

/// What processing one file holds in memory at its peak, judged from its size
/// and first bytes before it is read: the daemon admits work against its
/// memory budget with it (`quern serve --max-memory`). Deliberately generous;
/// a file that cannot be what it claims is refused later anyway, and the
/// estimate is only released when its result is known.
public enum MemoryEstimate {
    /// Bytes of the file's head the estimate looks at (a PNG's IHDR ends at
    /// 33; a JPEG's frame header follows its tables, ~160–700 bytes in, or
    /// behind a camera's APP1 EXIF and APP2 ICC blocks, up to 64 kB each).
    public static let prefixLength = 128 << 10
    /// Pixels per byte of a JPEG whose frame header lies beyond the prefix:
    /// photos hold 2–20, flat graphics up to ~60; pathological files beyond
    /// that are still refused by the pixel limit and the decoder's budget.
    static let jpegPixelsPerByte = 64
    /// Fixed costs per input on top of what scales with it (buffers, model activations).
    static let overhead = 16 << 20

    public static func bytes(size: Int, prefix: [UInt8], limits: InputLimits) -> Int {
        let size = max(0, min(size, limits.maxBytes))
        if let header = PNGHeader(prefix) {
            // The file, the decoded samples, the RGB copy; resize and model input are bounded.
            return add([size, header.decodedBytes, header.rgbBytes, overhead])
        }
        if JPEGProbe.matches(prefix) {
            // The file, libjpeg's output (and coefficients when progressive), the RGB copy.
            if let frame = JPEGProbe.frameHeader(inPrefix: prefix) {
                return add([size, frame.decodedBytes, mul(frame.pixels, 3), overhead])
            }
            let pixels = min(limits.maxPixels, mul(size, jpegPixelsPerByte))
            return add([size, mul(pixels, 4 + 8 + 3), overhead])
        }
        if !isAudio(prefix), isText(prefix) {
            // The bytes, the String, its scalars and tokens: a few copies of the text.
            return add([mul(size, 12), overhead])
        }
        // Audio (or something refused at once): 16 kHz float samples plus the
        // log-mel frames, 96 kB per second of sound, bounded by the duration
        // limit; compressed audio expands by at most ~32 times.
        let decoded = min(mul(size, 32), Int(min(Double(Int.max / 2), limits.maxAudioSeconds * 96_000 * 1.25)))
        return add([size, decoded, overhead])
    }

    /// The containers libsndfile reads announce themselves in their first bytes.
    private static func isAudio(_ prefix: [UInt8]) -> Bool {
        let magics: [[UInt8]] = ["RIFF", "RIFX", "RF64", "FORM", "fLaC", "OggS", "ID3", "caff", ".snd", "riff"].map { Array($0.utf8) }
        return magics.contains { prefix.starts(with: $0) } || (prefix.count >= 2 && prefix[0] == 0xFF && prefix[1] & 0xE0 == 0xE0)
    }

    /// Text (requests and plain text): no control bytes but tab and line
    /// breaks, and valid UTF-8 (a sequence cut by the prefix's end allowed).
    private static func isText(_ prefix: [UInt8]) -> Bool {
        guard !prefix.isEmpty else { return true }
        guard prefix.allSatisfy({ $0 >= 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }), !prefix.contains(0x7F) else { return false }
        var index = 0
        while index < prefix.count {
            let byte = prefix[index]
            let length: Int
            switch byte {
            case 0x00...0x7F: length = 1
            case 0xC2...0xDF: length = 2
            case 0xE0...0xEF: length = 3
            case 0xF0...0xF4: length = 4
            default: return false
            }
            for next in prefix.dropFirst(index + 1).prefix(length - 1) where next & 0xC0 != 0x80 { return false }
            index += length
        }
        return true
    }

    private static func mul(_ a: Int, _ b: Int) -> Int {
        let (value, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? Int.max / 2 : value
    }

    private static func add(_ values: [Int]) -> Int {
        values.reduce(0) { total, value in
            let (sum, overflow) = total.addingReportingOverflow(value)
            return overflow ? Int.max / 2 : sum
        }
    }
}
