import QuernPipelines

/// How a result file is named. Documented in README ("Results"):
///
/// - the first result for `cat.png` is `cat.png.json`; later inputs with the
///   same name get `cat.png.1.json`, `cat.png.2.json`, … — the first name not
///   already in the outbox, so no result ever overwrites another;
/// - a name too long for that (the file system allows 255 bytes, and
///   `.json` adds 5) keeps as much of its start as fits — cut at a UTF-8
///   character boundary — followed by `~` and the first 8 hex digits of the
///   SHA-256 of the full name: `<start>~1a2b3c4d.json`, `<start>~1a2b3c4d.1.json`.
///   The full name is always in the result's `input.name`.
public enum ResultNames {
    public static let maximumNameBytes = 255

    /// The `index`-th candidate result name for an input name (0 = plain).
    public static func candidate(for name: [UInt8], index: Int) -> [UInt8] {
        let suffix = Array((index == 0 ? ".json" : ".\(index).json").utf8)
        if name.count + suffix.count <= maximumNameBytes { return name + suffix }
        let tag = Array("~".utf8) + Array(SHA256Hex.of(name).prefix(8).utf8)
        var keep = maximumNameBytes - suffix.count - tag.count
        // Never end on half a UTF-8 character: back off over continuation bytes
        // and the lead byte they belong to.
        if keep < name.count, name[keep] & 0xC0 == 0x80 {
            while keep > 0, name[keep] & 0xC0 == 0x80 { keep -= 1 }
        }
        return Array(name.prefix(keep)) + tag + suffix
    }

    /// The name of a sidecar beside result `resultName` (`talk.wav.json` →
    /// `talk.wav.srt`): the result's name with its extension replaced, so a
    /// second `talk.wav` (`talk.wav.1.json`) gets `talk.wav.1.srt`.
    public static func sidecar(ofResult resultName: [UInt8], format: SubtitleFormat) -> [UInt8] {
        let stem = resultName.count > 5 && resultName.suffix(5).elementsEqual(".json".utf8) ? Array(resultName.dropLast(5)) : resultName
        return stem + Array(".\(format.rawValue)".utf8)
    }

    /// A name for logs and messages: invalid UTF-8 shown as U+FFFD.
    public static func display(_ name: [UInt8]) -> String { String(decoding: name, as: UTF8.self) }
}
