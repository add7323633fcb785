/// What an image file's header says decoding it will cost, known before any
/// pixel memory is allocated: the decoders' limits and the preprocessing's
/// memory check (`ImagePreprocessing.checkMemory`) work from it alike for
/// PNG (`PNGHeader`) and JPEG (`JPEGHeader`).
public protocol ImageHeaderCost: Sendable {
    var width: Int { get }
    var height: Int { get }
    /// Bytes the decoder holds at its peak.
    var decodedBytes: Int { get }
    /// Bytes of the 8-bit RGB copy made after decoding (0 when the decoded buffer is used in place).
    var rgbBytes: Int { get }
    /// The image as messages name it, e.g. "8-bit rgb" or "progressive JPEG, 3 components".
    var costDescription: String { get }
}

extension PNGHeader: ImageHeaderCost {
    public var costDescription: String { "\(bitDepth)-bit \(colorType.name)" }
}

extension ImageHeaderCost {
    /// The checks both decoders make from the header alone, before any pixel
    /// memory is allocated: the pixel limit (decompression bombs) and the
    /// memory the decoder would hold.
    func checkDecodingLimits(maximumPixels: Int, memoryBudget: Int) throws(MediaError) {
        guard width * height <= maximumPixels else {
            throw MediaError(.tooLarge, "\(width) x \(height) pixels is over the limit of \(maximumPixels) pixels")
        }
        guard decodedBytes <= memoryBudget else {
            throw MediaError(.tooLarge, "decoding the \(width)×\(height) \(costDescription) image needs \(decodedBytes) bytes, more than the image memory budget of \(memoryBudget) bytes")
        }
    }
}
