import QuernTensor

/// Pillow's convolution resize (`Image.resize(size, filter)` on an RGB
/// image, i.e. `ImagingResample`), bit-exact: a horizontal pass into an
/// 8-bit intermediate holding only the source rows the vertical pass will
/// read, then a vertical pass, each accumulating 8-bit samples times 2^22
/// fixed-point weights in 32-bit integers from a rounding bias of 2^21.
/// A pass whose axis keeps its size is skipped, as in Pillow.
///
/// `window` asks for part of the resized image (a crop of it): every output
/// pixel depends only on its own coordinates, so computing just the window is
/// identical to resizing in full and cropping, and cheaper.
public enum PillowResize {
    public struct Window: Sendable, Equatable {
        public var columns: Range<Int>
        public var rows: Range<Int>
        public init(columns: Range<Int>, rows: Range<Int>) {
            self.columns = columns
            self.rows = rows
        }
    }

    public static func resize(
        _ image: RGBImage, width: Int, height: Int, filter: ResampleFilter, window: Window? = nil
    ) -> RGBImage {
        precondition(width > 0 && height > 0, "resize needs a positive size")
        let window = window ?? Window(columns: 0..<width, rows: 0..<height)
        precondition(window.columns.lowerBound >= 0 && window.columns.upperBound <= width && !window.columns.isEmpty
                     && window.rows.lowerBound >= 0 && window.rows.upperBound <= height && !window.rows.isEmpty,
                     "resize window outside the output")
        let resizeColumns = width != image.width
        let resizeRows = height != image.height

        // Source rows the output rows of the window read.
        let vertical = resizeRows
            ? ResampleCoefficients(sourceSize: image.height, sourceStart: 0, sourceEnd: Float(image.height),
                                   outputSize: height, positions: window.rows, filter: filter)
            : nil
        let firstSourceRow: Int
        let endSourceRow: Int
        if let vertical {
            firstSourceRow = vertical.starts.min() ?? 0
            endSourceRow = zip(vertical.starts, vertical.counts).map { $0 + $1 }.max() ?? 0
        } else {
            firstSourceRow = window.rows.lowerBound
            endSourceRow = window.rows.upperBound
        }

        // Horizontal pass (or a plain copy of the window's columns).
        let intermediateWidth = window.columns.count
        let intermediateRows = endSourceRow - firstSourceRow
        var intermediate = [UInt8](repeating: 0, count: intermediateWidth * intermediateRows * 3)
        image.withPixels { source in
            intermediate.withUnsafeMutableBufferPointer { target in
                if resizeColumns {
                    let horizontal = ResampleCoefficients(
                        sourceSize: image.width, sourceStart: 0, sourceEnd: Float(image.width),
                        outputSize: width, positions: window.columns, filter: filter)
                    resampleRows(source: source, sourceWidth: image.width, rows: firstSourceRow..<endSourceRow,
                                 coefficients: horizontal, target: target)
                } else {
                    for row in 0..<intermediateRows {
                        let from = ((firstSourceRow + row) * image.width + window.columns.lowerBound) * 3
                        let to = row * intermediateWidth * 3
                        for index in 0..<(intermediateWidth * 3) { target[to + index] = source[from + index] }
                    }
                }
            }
        }
        guard let vertical else {
            return RGBImage(width: intermediateWidth, height: intermediateRows, pixels: intermediate)
        }

        // Vertical pass over the intermediate rows.
        var output = [UInt8](repeating: 0, count: intermediateWidth * window.rows.count * 3)
        intermediate.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                resampleColumns(source: source, width: intermediateWidth, firstSourceRow: firstSourceRow,
                                coefficients: vertical, target: target)
            }
        }
        return RGBImage(width: intermediateWidth, height: window.rows.count, pixels: output)
    }

    /// Horizontal pass: each output column of the coefficients' positions in
    /// each source row of `rows`; rows are split over the compute threads.
    /// R, G and B of one tap are one SIMD multiply-add.
    private static func resampleRows(
        source: UnsafeBufferPointer<UInt8>, sourceWidth: Int, rows: Range<Int>,
        coefficients: ResampleCoefficients, target: UnsafeMutableBufferPointer<UInt8>
    ) {
        guard let input = source.baseAddress, let output = target.baseAddress else { return }
        let outputWidth = coefficients.positions.count
        let firstRow = rows.lowerBound
        let inputEnd = input + source.count
        coefficients.weights.withUnsafeBufferPointer { weights in
            coefficients.starts.withUnsafeBufferPointer { starts in
                coefficients.counts.withUnsafeBufferPointer { counts in
                    guard let weightBase = weights.baseAddress else { return }
                    parallelFor(rows.count, grain: 16) { chunk in
                        for rowIndex in chunk {
                            let rowStart = input + (firstRow + rowIndex) * sourceWidth * 3
                            let outputRow = output + rowIndex * outputWidth * 3
                            for column in 0..<outputWidth {
                                let taps = weightBase + column * coefficients.taps
                                var sum = SIMD4<Int32>(repeating: ResampleCoefficients.roundingBias)
                                var pixel = rowStart + starts[column] * 3
                                let count = counts[column]
                                // Four bytes load as one (R, G, B, next R); the weight's fourth
                                // lane is 0. The buffer's very last pixel has no fourth byte.
                                let wide = count == 0 || pixel + count * 3 < inputEnd ? count : count - 1
                                for tap in 0..<wide {
                                    let bytes = UnsafeRawPointer(pixel).loadUnaligned(as: SIMD4<UInt8>.self)
                                    let weight = taps[tap]
                                    sum &+= SIMD4<Int32>(truncatingIfNeeded: bytes) &* SIMD4<Int32>(weight, weight, weight, 0)
                                    pixel += 3
                                }
                                if wide < count {
                                    let rgb = SIMD4<Int32>(Int32(pixel[0]), Int32(pixel[1]), Int32(pixel[2]), 0)
                                    sum &+= rgb &* SIMD4<Int32>(repeating: taps[wide])
                                }
                                let out = outputRow + column * 3
                                out[0] = ResampleCoefficients.clip8(sum[0])
                                out[1] = ResampleCoefficients.clip8(sum[1])
                                out[2] = ResampleCoefficients.clip8(sum[2])
                            }
                        }
                    }
                }
            }
        }
    }

    /// Vertical pass: each output row of the coefficients' positions, all
    /// samples of the row at once (the inner loop vectorises); rows are split
    /// over the compute threads.
    private static func resampleColumns(
        source: UnsafeBufferPointer<UInt8>, width: Int, firstSourceRow: Int,
        coefficients: ResampleCoefficients, target: UnsafeMutableBufferPointer<UInt8>
    ) {
        guard let input = source.baseAddress, let output = target.baseAddress else { return }
        let samplesPerRow = width * 3
        let rows = coefficients.positions
        coefficients.weights.withUnsafeBufferPointer { weights in
            guard let weightBase = weights.baseAddress else { return }
            parallelFor(rows.count, grain: 8) { chunk in
                withUnsafeTemporaryAllocation(of: Int32.self, capacity: samplesPerRow) { sums in
                    guard let sum = sums.baseAddress else { return }
                    for rowIndex in chunk {
                        let first = coefficients.starts[rowIndex] - firstSourceRow
                        sum.update(repeating: ResampleCoefficients.roundingBias, count: samplesPerRow)
                        for tap in 0..<coefficients.counts[rowIndex] {
                            let weight = weightBase[rowIndex * coefficients.taps + tap]
                            let sourceRow = input + (first + tap) * samplesPerRow
                            for index in 0..<samplesPerRow {
                                sum[index] &+= Int32(sourceRow[index]) &* weight
                            }
                        }
                        let outputRow = output + rowIndex * samplesPerRow
                        for index in 0..<samplesPerRow {
                            outputRow[index] = ResampleCoefficients.clip8(sum[index])
                        }
                    }
                }
            }
        }
    }
}
