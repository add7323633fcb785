import Foundation

/// Reading the speech corpus (`SpeechCorpus`) the way the Whisper goldens did.
public enum WhisperTestCorpus {
    /// The corpus folder, nil when it cannot be generated (espeak-ng, sox missing).
    public static var folder: String? { try? SpeechCorpus.directory() }

    /// Samples of a 16 kHz mono 16-bit PCM WAV as int16 / 32768 (the exact
    /// numbers the goldens fed faster-whisper), nil for any other file.
    public static func exactSamples(_ path: String) -> [Float]? {
        guard let data = FileManager.default.contents(atPath: path), data.count >= 44 else { return nil }
        let bytes = [UInt8](data)
        func u32(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 | Int(bytes[at + 2]) << 16 | Int(bytes[at + 3]) << 24 }
        func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
        guard String(decoding: bytes[0..<4], as: UTF8.self) == "RIFF", String(decoding: bytes[8..<12], as: UTF8.self) == "WAVE" else { return nil }
        var offset = 12
        var isPlain16k = false
        while offset + 8 <= bytes.count {
            let id = String(decoding: bytes[offset..<offset + 4], as: UTF8.self), size = u32(offset + 4)
            let body = offset + 8
            if id == "fmt " {
                isPlain16k = u16(body) == 1 && u16(body + 2) == 1 && u32(body + 4) == 16_000 && u16(body + 14) == 16
            } else if id == "data" {
                guard isPlain16k else { return nil }
                let end = min(bytes.count, body + size)
                return stride(from: body, to: end - 1, by: 2).map { Float(Int16(bitPattern: UInt16(u16($0)))) / 32768 }
            }
            offset = body + size + (size & 1)
        }
        return nil
    }
}

/// Word error rate pieces, with the normaliser of make_whisper_goldens.py:
/// lower case, apostrophes kept, every other non-alphanumeric a space.
public enum WordErrorRate {
    public static func normalise(_ text: String) -> [String] {
        let lowered = text.lowercased().replacingOccurrences(of: "\u{2019}", with: "'")
        let kept = lowered.unicodeScalars.map { scalar -> Character in
            let isKept = ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "'" || scalar == " "
            return isKept ? Character(scalar) : " "
        }
        return String(kept).split(separator: " ").map(String.init)
    }

    /// Word-level edit distance.
    public static func edits(_ reference: [String], _ hypothesis: [String]) -> Int {
        var previous = Array(0...hypothesis.count)
        for (i, word) in reference.enumerated() {
            var current = [i + 1] + Array(repeating: 0, count: hypothesis.count)
            for (j, other) in hypothesis.enumerated() {
                current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, previous[j] + (word == other ? 0 : 1))
            }
            previous = current
        }
        return previous[hypothesis.count]
    }
}
