import QuernMedia

/// What processing one file holds in memory at its peak, judged from its size
/// and first bytes before it is read: the daemon admits work against its
/// memory budget with it (`quern serve --max-memory`). Deliberately generous;
/// a file that cannot be what it claims is refused later anyway, and the
/// estimate is only released when its result is known.
public enum MemoryEstimate {
    /// Bytes of the file's head the estimate looks at (a PNG's IHDR ends at 33).
    public static let prefixLength = 64
    /// Fixed costs per input on top of what scales with it (buffers, model activations).
    static let overhead = 16 << 20

    public static func bytes(size: Int, prefix: [UInt8], limits: InputLimits) -> Int {
        let size = max(0, min(size, limits.maxBytes))
        if let header = PNGHeader(prefix) {
            // The file, the decoded samples, the RGB copy; resize and model input are bounded.
            return add([size, header.decodedBytes, header.rgbBytes, overhead])
        }
        if isText(prefix) {
            // The bytes, the String, its scalars and tokens: a few copies of the text.
            return add([mul(size, 12), overhead])
        }
        // Audio (or something refused at once): 16 kHz float samples plus the
        // log-mel frames, 96 kB per second of sound, bounded by the duration
        // limit; compressed audio expands by at most ~32 times.
        let decoded = min(mul(size, 32), Int(min(Double(Int.max / 2), limits.maxAudioSeconds * 96_000 * 1.25)))
        return add([size, decoded, overhead])
    }

    /// ASCII/UTF-8 text (requests and plain text) starts with printable bytes.
    private static func isText(_ prefix: [UInt8]) -> Bool {
        guard let first = prefix.first else { return true }
        if prefix.starts(with: [0xEF, 0xBB, 0xBF]) { return true }
        return prefix.prefix(16).allSatisfy { $0 >= 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D } && first != 0x7F
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
