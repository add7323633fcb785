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
        var steps: [String] = []
        let image: RGBImage
        if channels == 3 && bytesPerSample == 1 {
            image = RGBImage(width: width, height: height, decoded: storage)  // already RGB: no copy
        } else {
            image = RGBImage(width: width, height: height, pixels: reducedToRGB())
        }
        describe(into: &steps)
        return RGBConversion(image: image, steps: steps)
    }

    /// Each pixel's R, G, B per Pillow's rule for this layout.
    private func reducedToRGB() -> [UInt8] {
        let pixelCount = width * height
        let grayClipsAt255 = colorType == .gray && bytesPerSample == 2
        return [UInt8](unsafeUninitializedCapacity: pixelCount * 3) { target, initialized in
            withSamples { source in
                guard let input = source.baseAddress, let out = target.baseAddress else { return }
                let stride = channels * bytesPerSample
                switch (channels, bytesPerSample) {
                case (3, 1):  // a plain copy (convertedToRGB itself uses the decoded buffer in place)
                    out.update(from: input, count: pixelCount * 3)
                case (4, 1):
                    for pixel in 0..<pixelCount {
                        out[pixel * 3] = input[pixel * 4]
                        out[pixel * 3 + 1] = input[pixel * 4 + 1]
                        out[pixel * 3 + 2] = input[pixel * 4 + 2]
                    }
                case (1, 1), (2, 1):
                    for pixel in 0..<pixelCount {
                        let gray = input[pixel * stride]
                        out[pixel * 3] = gray
                        out[pixel * 3 + 1] = gray
                        out[pixel * 3 + 2] = gray
                    }
                case (1, 2), (2, 2):
                    for pixel in 0..<pixelCount {
                        let high = input[pixel * stride], low = input[pixel * stride + 1]
                        // Pillow's I;16 → RGB clips at 255; gray+alpha 16 (opened as RGBA) keeps the high byte.
                        let gray = grayClipsAt255 ? (high == 0 ? low : 255) : high
                        out[pixel * 3] = gray
                        out[pixel * 3 + 1] = gray
                        out[pixel * 3 + 2] = gray
                    }
                default:  // RGB or RGBA, 16-bit: the high bytes
                    for pixel in 0..<pixelCount {
                        out[pixel * 3] = input[pixel * stride]
                        out[pixel * 3 + 1] = input[pixel * stride + 2]
                        out[pixel * 3 + 2] = input[pixel * stride + 4]
                    }
                }
            }
            initialized = pixelCount * 3
        }
    }

    private func describe(into steps: inout [String]) {
        let grayClipsAt255 = colorType == .gray && bytesPerSample == 2
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
    }
}
