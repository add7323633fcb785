/// A whole decoded JPEG: what its markers declared, and libjpeg's samples —
/// gray, RGB (from YCbCr or RGB) or CMYK (from CMYK or YCCK) exactly as
/// libjpeg delivers them, before Pillow's inversion and conversion.
public struct DecodedJPEG: Sendable {
    public let header: JPEGHeader
    /// The colour space of the file's samples as libjpeg judged it.
    public let colorSpace: JPEGColorSpace
    /// Channels of the samples: 1 gray, 3 RGB, 4 CMYK.
    public let channels: Int
    /// libjpeg's harmless warnings (header trivia; the image decoded whole).
    public let warnings: [String]
    let storage: DecodedPixels

    /// Stored (not turned) size.
    public var width: Int { header.width }
    public var height: Int { header.height }

    /// `height` rows of `width × channels` bytes, as stored (not turned).
    public func withSamples<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.base, count: storage.count))
    }

    /// A copy of the samples.
    public var samples: [UInt8] { withSamples { Array($0) } }
}

/// Conversion to 8-bit RGB exactly as Pillow 13 gives it for
/// `ImageOps.exif_transpose(Image.open(f)).convert("RGB")`:
///
/// - gray (mode L): the value in all three channels;
/// - CMYK: Pillow opens every 4-component JPEG as raw mode "CMYK;I" (Adobe
///   polarity, whether or not an APP14 marker is there), so each sample is
///   inverted, then `cmyk2rgb`: with nk = 255 − K, each of R, G, B is
///   nk − round(C′·nk / 255) using Pillow's integer MULDIV255;
/// - the EXIF orientation (2…8) turns the image with Pillow's transposition.
///
/// Conversion and turning are one pass into one new buffer; an upright
/// 3-channel image uses libjpeg's buffer as is.
extension DecodedJPEG {
    public func convertedToRGB() -> RGBConversion {
        var steps: [String] = []
        switch channels {
        case 1: steps.append("gray copied to R, G and B")
        case 4:
            steps.append("CMYK inverted (Adobe polarity, Pillow CMYK;I)" + (colorSpace == .ycck ? " from YCCK" : ""))
            steps.append("CMYK converted to RGB (Pillow cmyk2rgb)")
        default: break
        }
        let orientation = header.orientation
        if let name = orientation.transposeName {
            steps.append("EXIF orientation \(orientation.rawValue): \(name)")
        }
        if channels == 3 && orientation == .upright {
            return RGBConversion(image: RGBImage(width: width, height: height, decoded: storage), steps: steps)
        }
        let outputWidth = orientation.swapsSides ? height : width
        let outputHeight = orientation.swapsSides ? width : height
        let pixelCount = width * height
        let rgb = [UInt8](unsafeUninitializedCapacity: pixelCount * 3) { target, initialized in
            withSamples { source in
                guard let input = source.baseAddress, let out = target.baseAddress else { return }
                let channels = self.channels, width = self.width, height = self.height
                for y in 0..<outputHeight {
                    var at = y * outputWidth * 3
                    for x in 0..<outputWidth {
                        let from = orientation.source(x: x, y: y, width: width, height: height)
                        let pixel = input + (from.y * width + from.x) * channels
                        switch channels {
                        case 1:
                            out[at] = pixel[0]; out[at + 1] = pixel[0]; out[at + 2] = pixel[0]
                        case 4:
                            let nk = Int(pixel[3])  // 255 − (255 − K): inverted once for CMYK;I, once for nk
                            out[at] = Self.cmykChannel(inverted: 255 - Int(pixel[0]), nk: nk)
                            out[at + 1] = Self.cmykChannel(inverted: 255 - Int(pixel[1]), nk: nk)
                            out[at + 2] = Self.cmykChannel(inverted: 255 - Int(pixel[2]), nk: nk)
                        default:
                            out[at] = pixel[0]; out[at + 1] = pixel[1]; out[at + 2] = pixel[2]
                        }
                        at += 3
                    }
                }
            }
            initialized = pixelCount * 3
        }
        return RGBConversion(image: RGBImage(width: outputWidth, height: outputHeight, pixels: rgb), steps: steps)
    }

    /// Pillow's `CLIP8(nk - MULDIV255(c, nk))` for one channel, where
    /// MULDIV255(a, b) = ((a·b + 128) >> 8 + a·b + 128) >> 8.
    @inline(__always)
    static func cmykChannel(inverted c: Int, nk: Int) -> UInt8 {
        let product = c * nk + 128
        let value = nk - (((product >> 8) + product) >> 8)
        return UInt8(clamping: value)
    }
}
