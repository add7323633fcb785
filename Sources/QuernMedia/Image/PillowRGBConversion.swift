/// Conversion of a decoded PNG to 8-bit RGB exactly as Pillow 13's
/// `Image.open(path).convert("RGB")` does it, checked per variant against
/// Pillow by tools/goldens/make_image_goldens.py:
///
/// - gray 1/2/4/8-bit: the gray value (scaled to 8 bits) in all three channels;
/// - gray 16-bit (Pillow mode "I;16"): the value clipped to 255 — not the high
///   byte: 0x0100 becomes 255;
/// - gray+alpha 16-bit (opened as "RGBA"), RGB and RGBA 16-bit: the high byte;
/// - alpha channels are dropped, not composited onto a background;
/// - palettes map through PLTE; tRNS transparency (palette or colour key) is ignored.
public struct RGBConversion: Sendable {
    public let image: RGBImage
    /// What the conversion did, for the result ("alpha dropped", …).
    public let steps: [String]
}

extension DecodedPNG {
    public func convertedToRGB() -> RGBConversion {
        let pixelCount = width * height
        var output = [UInt8](repeating: 0, count: pixelCount * 3)
        var steps: [String] = []
        let grayClipsAt255 = colorType == .gray && bytesPerSample == 2
        samples.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                let stride = channels * bytesPerSample
                let colorChannels = channels >= 3 ? 3 : 1
                for pixel in 0..<pixelCount {
                    let base = pixel * stride
                    for channel in 0..<3 {
                        let sourceChannel = colorChannels == 3 ? channel : 0
                        let offset = base + sourceChannel * bytesPerSample
                        let value: UInt8
                        if bytesPerSample == 1 {
                            value = source[offset]
                        } else if grayClipsAt255 {
                            value = source[offset] == 0 ? source[offset + 1] : 255
                        } else {
                            value = source[offset]
                        }
                        target[pixel * 3 + channel] = value
                    }
                }
            }
        }
        switch colorType {
        case .palette: steps.append("palette expanded to RGB")
        case .gray, .grayAlpha: steps.append("gray copied to R, G and B")
        case .rgb, .rgba: break
        }
        if bitDepth < 8 && colorType == .gray { steps.append("\(bitDepth)-bit gray scaled to 8 bits") }
        if bitDepth == 16 {
            steps.append(grayClipsAt255 ? "16-bit gray clipped to 255 (Pillow I;16 to RGB)" : "16-bit reduced to 8 (high byte)")
        }
        if colorType.hasAlphaChannel { steps.append("alpha dropped (not composited)") }
        if hasTransparencyChunk { steps.append("tRNS transparency ignored") }
        return RGBConversion(image: RGBImage(width: width, height: height, pixels: output), steps: steps)
    }
}
