/// File names and paths as raw bytes. Linux names are any bytes but `/` and
/// NUL; going through `String` would mangle names that are not UTF-8, so every
/// path the daemon touches stays `[UInt8]` until the system call.
enum Paths {
    static func join(_ directory: [UInt8], _ name: [UInt8]) -> [UInt8] {
        var path = directory
        if path.last != UInt8(ascii: "/") { path.append(UInt8(ascii: "/")) }
        path.append(contentsOf: name)
        return path
    }

    static func join(_ directory: [UInt8], _ name: String) -> [UInt8] { join(directory, Array(name.utf8)) }

    /// A NUL-terminated copy, which Swift passes to C as `const char *`.
    static func c(_ path: [UInt8]) -> [CChar] {
        var chars = path.map { CChar(bitPattern: $0) }
        chars.append(0)
        return chars
    }
}
