/// Names the watcher never takes: files still being written by a
/// write-then-rename producer (maildir style) and Quern's own hidden state.
enum InboxFilter {
    private static let inProgressSuffixes = [".part", ".tmp"].map { Array($0.utf8) }

    static func isIgnored(_ name: [UInt8]) -> Bool {
        if name.first == UInt8(ascii: ".") { return true }
        let lowered = name.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }
        return inProgressSuffixes.contains { lowered.count >= $0.count && lowered.suffix($0.count).elementsEqual($0) }
    }
}
