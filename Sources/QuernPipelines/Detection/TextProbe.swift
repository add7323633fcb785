/// Decides whether bytes are UTF-8 text, and when they are not, whether they
/// look like text in another encoding (so the error can say "save it as UTF-8")
/// or like binary data.
enum TextProbe {
    enum Verdict {
        case utf8(String)
        /// Text-like bytes that are not UTF-8; `offset` is the first bad byte.
        case otherEncoding(offset: Int, detail: String)
        case binary
    }

    static func classify(_ bytes: [UInt8]) -> Verdict {
        if bytes.starts(with: [0xFF, 0xFE]) || bytes.starts(with: [0xFE, 0xFF]) {
            return .otherEncoding(offset: 0, detail: "it starts with a UTF-16 byte-order mark")
        }
        // NUL never appears in text files; it marks binary data even when the
        // bytes happen to be valid UTF-8.
        if bytes.contains(0) { return .binary }
        let body = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(bytes.dropFirst(3)) : bytes
        if let text = String(validating: body, as: UTF8.self) { return .utf8(text) }
        let controls = bytes.lazy.filter { $0 < 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D && $0 != 0x0C }.count
        if controls * 100 > bytes.count { return .binary }
        return .otherEncoding(offset: firstInvalidOffset(body) + (body.count == bytes.count ? 0 : 3), detail: "")
    }

    /// Byte offset of the first sequence that is not UTF-8.
    private static func firstInvalidOffset(_ bytes: [UInt8]) -> Int {
        var decoder = UTF8()
        var iterator = bytes.makeIterator()
        var offset = 0
        while true {
            switch decoder.decode(&iterator) {
            case let .scalarValue(scalar): offset += UTF8.width(scalar)
            case .emptyInput: return offset
            case .error: return offset
            }
        }
    }
}
