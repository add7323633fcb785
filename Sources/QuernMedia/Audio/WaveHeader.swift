/// The length a RIFF/RIFX/RF64 WAVE header declares, read independently of
/// libsndfile: when the data chunk claims more bytes than the file holds,
/// libsndfile quietly shortens its frame count to what is there, and the
/// decoder wants to say plainly how much the header promised.
enum WaveHeader {
    /// Frames the data chunk declares for PCM or float WAVE data, nil when the
    /// file is not WAVE, the encoding is compressed (frames are not bytes /
    /// block), or the length is the "unknown" marker streaming writers leave.
    static func declaredFrames(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 12 else { return nil }
        let tag = String(decoding: bytes[0..<4], as: UTF8.self)
        guard ["RIFF", "RIFX", "RF64"].contains(tag),
              String(decoding: bytes[8..<12], as: UTF8.self) == "WAVE" else { return nil }
        let bigEndian = tag == "RIFX"

        func integer(at offset: Int, width: Int) -> UInt64? {
            guard offset >= 0, width <= 8, offset + width <= bytes.count else { return nil }
            var value: UInt64 = 0
            for index in 0..<width {
                let byte = UInt64(bytes[offset + (bigEndian ? index : width - 1 - index)])
                value = value << 8 | byte
            }
            return value
        }

        var blockAlign: UInt64?
        var isLinear = false
        var rf64DataSize: UInt64?
        var offset = 12
        while offset + 8 <= bytes.count {
            let identifier = String(decoding: bytes[offset..<offset + 4], as: UTF8.self)
            guard let size = integer(at: offset + 4, width: 4) else { return nil }
            let body = offset + 8
            switch identifier {
            case "ds64":
                rf64DataSize = integer(at: body + 8, width: 8)
            case "fmt ":
                guard let formatTag = integer(at: body, width: 2), let align = integer(at: body + 12, width: 2) else {
                    return nil
                }
                blockAlign = align
                if formatTag == 0xFFFE {
                    // WAVE_FORMAT_EXTENSIBLE: the real tag opens the sub-format GUID.
                    let subformat = integer(at: body + 24, width: 2)
                    isLinear = subformat == 1 || subformat == 3
                } else {
                    isLinear = formatTag == 1 || formatTag == 3
                }
            case "data":
                guard isLinear, let blockAlign, blockAlign > 0 else { return nil }
                var dataSize = size
                if tag == "RF64", size == 0xFFFF_FFFF { dataSize = rf64DataSize ?? 0 }
                guard dataSize > 0, dataSize != 0xFFFF_FFFF, dataSize < UInt64(Int.max) else { return nil }
                return Int(dataSize / blockAlign)
            default:
                break
            }
            // Chunks are padded to an even length.
            let advance = size + (size & 1)
            guard advance < UInt64(Int.max - body) else { return nil }
            offset = body + Int(advance)
        }
        return nil
    }
}
