/// A NUL-terminated C char array that Swift imports as a tuple (the shims'
/// `message` and `warnings` fields), as a String.
func cCharArrayString<T>(_ tuple: inout T) -> String {
    withUnsafeBytes(of: &tuple) { raw in
        let bytes = raw.bindMemory(to: UInt8.self)
        let end = bytes.firstIndex(of: 0) ?? bytes.count
        return String(decoding: bytes[..<end], as: UTF8.self)
    }
}
