import QuernTensor

/// A model input made from one image, and what was done to make it.
public struct PreprocessedImage: Sendable {
    /// [3, height, width], channels in the description's order.
    public let pixels: Tensor
    /// Every step, in order, as text for the result.
    public let steps: [String]
}

extension ImagePreprocessing {
    /// The largest model input `apply` makes (64 megapixels).
    public static let maximumOutputPixels = 1 << 26

    /// The output size (width, height) for a source of `width × height`.
    public func resizedSize(width: Int, height: Int) -> (width: Int, height: Int) {
        guard let resize else { return (width, height) }
        switch resize.mode {
        case .exact:
            return (resize.width ?? width, resize.height ?? height)
        case .shorterSide:
            let size = resize.size ?? min(width, height)
            let shorter = min(width, height), longer = max(width, height)
            // Python's int(size * long / short): a float64 quotient, truncated.
            let newLonger = Int(Double(size * longer) / Double(shorter))
            return width <= height ? (size, newLonger) : (newLonger, size)
        }
    }

    /// The crop window in the resized image, or nil when none.
    func cropWindow(width: Int, height: Int) throws(MediaError) -> PillowResize.Window? {
        guard let crop else { return nil }
        switch crop.mode {
        case .box:
            let left = crop.left ?? 0, top = crop.top ?? 0
            let right = crop.right ?? width, bottom = crop.bottom ?? height
            guard right <= width, bottom <= height else {
                throw MediaError(.unsupported, "crop (\(left), \(top), \(right), \(bottom)) is outside the \(width)×\(height) resized image")
            }
            return PillowResize.Window(columns: left..<right, rows: top..<bottom)
        case .center:
            let cropWidth = crop.width ?? width, cropHeight = crop.height ?? height
            guard cropWidth <= width, cropHeight <= height else {
                throw MediaError(.unsupported, "centre crop \(cropWidth)×\(cropHeight) is larger than the \(width)×\(height) resized image")
            }
            let left = Self.centerOffset(width - cropWidth, crop.centerRounding ?? .halfToEven)
            let top = Self.centerOffset(height - cropHeight, crop.centerRounding ?? .halfToEven)
            return PillowResize.Window(columns: left..<(left + cropWidth), rows: top..<(top + cropHeight))
        }
    }

    private static func centerOffset(_ spare: Int, _ rounding: Crop.CenterRounding) -> Int {
        switch rounding {
        case .floor: return spare / 2
        case .halfToEven: return Int((Double(spare) / 2).rounded(.toNearestOrEven))
        }
    }

    /// Bytes decoding an image with `header` and preprocessing it hold at
    /// their peak: the decoded samples, the RGB copy, the resize's working
    /// memory (a block of rows, the output rows in flight), the resized
    /// window and the float tensor. Computed from the header alone (a PNG's
    /// IHDR, a JPEG's frame header).
    public func peakBytes(for header: some ImageHeaderCost) throws(MediaError) -> Int {
        let target = resizedSize(width: header.width, height: header.height)
        let window = try cropWindow(width: target.width, height: target.height)
            ?? PillowResize.Window(columns: 0..<target.width, rows: 0..<target.height)
        let outputPixels = PNGHeader.saturating(window.columns.count, window.rows.count)
        guard outputPixels <= Self.maximumOutputPixels else { return Int.max }
        var resize = 0
        if target.width != header.width || target.height != header.height || window.columns.count != header.width
            || window.rows.count != header.height {
            resize = outputPixels * 3 + PillowResize.workingBytes(
                sourceWidth: header.width, sourceHeight: header.height, width: target.width, height: target.height,
                filter: resample, window: window)
        }
        let (total, overflow) = header.decodedBytes.addingReportingOverflow(header.rgbBytes)
        guard !overflow else { return Int.max }
        return total.addingReportingOverflow(resize + outputPixels * 3 * 4).overflow ? Int.max : total + resize + outputPixels * 12
    }

    /// Refuses, before decoding, an image whose decoding and preprocessing
    /// would need more than `budget` bytes (`peakBytes(for:)`).
    public func checkMemory(for header: some ImageHeaderCost, budget: Int = PNGDecoder.defaultMemoryBudget) throws(MediaError) {
        let needed = try peakBytes(for: header)
        guard needed <= budget else {
            throw MediaError(.tooLarge, "decoding and preprocessing the \(header.width)×\(header.height) \(header.costDescription) image for \(name) needs \(needed == Int.max ? "more than \(budget)" : String(needed)) bytes, more than the image memory budget of \(budget) bytes")
        }
    }

    /// Resize, crop, reorder, rescale and normalise `image` into a [3, H, W] tensor.
    public func apply(to image: RGBImage) throws(MediaError) -> PreprocessedImage {
        try validate()
        var steps: [String] = []
        let target = resizedSize(width: image.width, height: image.height)
        let window = try cropWindow(width: target.width, height: target.height)
        // Only the crop is computed, but an uncropped resize of an extreme
        // aspect ratio (a 100000×1 strip to shorter side 256) would be huge.
        let outputPixels = window.map { $0.columns.count * $0.rows.count } ?? target.width * target.height
        guard outputPixels <= Self.maximumOutputPixels else {
            throw MediaError(.tooLarge, "preprocessing \(name) would make a \(target.width)×\(target.height) model input from a \(image.width)×\(image.height) image")
        }
        let cropped: RGBImage
        if target.width != image.width || target.height != image.height {
            cropped = PillowResize.resize(image, width: target.width, height: target.height, filter: resample, window: window)
            steps.append("resized \(image.width)×\(image.height) to \(target.width)×\(target.height) (Pillow \(resample.rawValue))")
        } else if let window {
            cropped = PillowResize.resize(image, width: image.width, height: image.height, filter: resample, window: window)
        } else {
            cropped = image
        }
        if let window {
            steps.append("cropped columns \(window.columns.lowerBound)..<\(window.columns.upperBound), rows \(window.rows.lowerBound)..<\(window.rows.upperBound)")
        }
        steps.append(channelOrder == .bgr ? "channels BGR" : "channels RGB")
        if let rescale {
            steps.append(rescale.mode == .divide ? "divided by \(rescale.factor)" : "multiplied by \(rescale.factor)")
        }
        steps.append("minus mean \(mean), divided by std \(std)")

        let width = cropped.width, height = cropped.height, plane = width * height
        // Each 8-bit value maps to one float per channel: a 256-entry table per channel.
        var tables = [[Float]](repeating: [], count: 3)
        for channel in 0..<3 {
            tables[channel] = (0..<256).map { value in normalized(UInt8(value), channel: channel) }
        }
        let pixels = Tensor(zeros: [3, height, width])
        pixels.withMutableBuffer { output in
            cropped.withPixels { source in
                for channel in 0..<3 {
                    let sourceChannel = channelOrder == .bgr ? 2 - channel : channel
                    let table = tables[channel]
                    for index in 0..<plane {
                        output[channel * plane + index] = table[Int(source[index * 3 + sourceChannel])]
                    }
                }
            }
        }
        return PreprocessedImage(pixels: pixels, steps: steps)
    }

    /// One 8-bit value of output channel `channel`, with the operations in
    /// the reference's order and precision.
    private func normalized(_ value: UInt8, channel: Int) -> Float {
        var scaled = Float(value)
        if let rescale {
            switch rescale.mode {
            case .divide: scaled = Float(value) / Float(rescale.factor)
            case .multiply: scaled = Float(Double(value) * rescale.factor)
            }
        }
        return (scaled - mean[channel]) / std[channel]
    }
}
