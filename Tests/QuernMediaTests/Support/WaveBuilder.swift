/// Builds small WAVE files in memory for decoder tests: any format tag,
/// sample bytes given directly, optional extra chunks and a data size that
/// can lie.
struct WaveBuilder {
    var formatTag: UInt16 = 1
    var channels: UInt16 = 1
    var sampleRate: UInt32 = 16_000
    var bitsPerSample: UInt16 = 16
    /// Chunks placed between "fmt " and "data" (identifier, body).
    var extraChunks: [(String, [UInt8])] = []
    /// Written as the data chunk's size instead of the real one.
    var declaredDataSize: UInt32?
    /// For WAVE_FORMAT_EXTENSIBLE: the sub-format tag inside the GUID.
    var extensibleSubformat: UInt16?

    func build(data: [UInt8]) -> [UInt8] {
        let blockAlign = UInt16(Int(channels) * Int(bitsPerSample) / 8)
        var format: [UInt8] = []
        format += le16(extensibleSubformat == nil ? formatTag : 0xFFFE) + le16(channels) + le32(sampleRate)
        format += le32(sampleRate * UInt32(blockAlign)) + le16(blockAlign) + le16(bitsPerSample)
        if let subformat = extensibleSubformat {
            format += le16(22) + le16(bitsPerSample) + le32(channels == 2 ? 3 : 4)
            format += le16(subformat) + [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71]
        }
        var body: [UInt8] = Array("WAVE".utf8)
        body += chunk("fmt ", format)
        for (identifier, content) in extraChunks { body += chunk(identifier, content) }
        body += Array("data".utf8) + le32(declaredDataSize ?? UInt32(data.count)) + data
        if data.count % 2 == 1 { body.append(0) }
        return Array("RIFF".utf8) + le32(UInt32(body.count)) + body
    }

    private func chunk(_ identifier: String, _ content: [UInt8]) -> [UInt8] {
        Array(identifier.utf8) + le32(UInt32(content.count)) + content + (content.count % 2 == 1 ? [0] : [])
    }
}

func le16(_ value: UInt16) -> [UInt8] { [UInt8(value & 0xFF), UInt8(value >> 8)] }
func le32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8((value >> (8 * $0)) & 0xFF) } }

/// Signed 16-bit little-endian samples.
func pcm16(_ values: [Int16]) -> [UInt8] { values.flatMap { le16(UInt16(bitPattern: $0)) } }

/// Float32 little-endian samples.
func float32Bytes(_ values: [Float]) -> [UInt8] { values.flatMap { le32($0.bitPattern) } }
