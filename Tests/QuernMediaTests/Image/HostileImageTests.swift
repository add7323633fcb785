import Foundation
@testable import QuernMedia
import QuernTestSupport
import Testing

/// Hostile PNGs: strips and headers that once made decoding or resizing
/// allocate tens of gigabytes (a 77 KB 1 × 40,000,000 PNG killed the daemon),
/// and the streamed resize that replaced the whole 8-bit intermediate.
@Suite("Hostile images")
struct HostileImageTests {
    /// A 1 × 40,000,000 gray PNG (~77 KB): over a lower pixel limit it is
    /// refused from IHDR, before a byte is inflated; within the limit its
    /// cost is known from IHDR and bounded by its pixels, not its shape.
    @Test func fortyMegapixelStripIsRefusedByThePixelLimit() throws {
        let strip = HostileMedia.grayPNG(width: 1, height: 40_000_000)
        #expect(strip.count < 200_000)
        let started = ContinuousClock.now
        do {
            _ = try PNGDecoder(maximumPixels: 39_999_999).decode(strip)
            Issue.record("a 1 × 40,000,000 strip decoded over the pixel limit")
        } catch {
            #expect(error.kind == .tooLarge)
            #expect(error.message.contains("over the limit of 39999999 pixels"), "\(error.message)")
        }
        #expect(ContinuousClock.now - started < .seconds(1))
        // Within the limit: the decoded samples and the RGB copy (40 + 120 MB),
        // a few megabytes for the resize and the model input.
        let header = try #require(PNGHeader(strip))
        try PNGDecoder(maximumPixels: 40_000_000).check(header)
        let peak = try ImagePreprocessing.openNSFW.peakBytes(for: header)
        #expect(peak < 180_000_000, "\(peak) bytes")
    }

    /// Any shape passes the header checks: the thin strips a 100:1 limit
    /// once refused cost what their pixels cost.
    @Test func extremeShapesPassTheHeaderChecks() throws {
        let decoder = PNGDecoder()
        for (width, height) in [(1, 4000), (4000, 1), (10, 4000), (4000, 10), (7000, 20), (3, 3), (1, 40_000_000), (40_000_000, 1)] {
            let header = PNGHeader(width: width, height: height, bitDepth: 8, colorType: .rgb)
            try decoder.check(header)
            try ImagePreprocessing.openNSFW.checkMemory(for: header)
            try ImagePreprocessing.torchvisionImageNet.checkMemory(for: header)
        }
    }

    /// A 1 × 1,000,000 strip decodes and resizes with memory bounded by the
    /// output: the resize's own working memory is a few megabytes, not ~590
    /// bytes per source row, with the vertical pass first or second.
    @Test func stripResizeWorkingMemoryIsBoundedByTheOutput() throws {
        let strip = HostileMedia.png(width: 1, height: 1_000_000) { [UInt8(truncatingIfNeeded: $0 / 1000)] }
        let rgb = try PNGDecoder().decode(strip).convertedToRGB().image
        let preprocessing = ImagePreprocessing.openNSFW
        let prepared = try preprocessing.apply(to: rgb)
        #expect(prepared.pixels.shape == [3, 224, 224])
        let working = PillowResize.workingBytes(sourceWidth: 1, sourceHeight: 1_000_000, width: 256, height: 256, filter: .bilinear,
                                                window: PillowResize.Window(columns: 16..<240, rows: 16..<240))
        #expect(working < 8 << 20, "\(working) bytes")
        for height in [4_000_000, 40_000_000] {
            let extreme = PillowResize.workingBytes(sourceWidth: 1, sourceHeight: height, width: 256, height: 256, filter: .lanczos,
                                                    window: PillowResize.Window(columns: 16..<240, rows: 16..<240))
            #expect(extreme < 64 << 20, "1 × \(height): \(extreme) bytes")
            let wide = PillowResize.workingBytes(sourceWidth: height, sourceHeight: 1, width: 256, height: 256, filter: .lanczos,
                                                 window: PillowResize.Window(columns: 16..<240, rows: 16..<240))
            #expect(wide < 64 << 20, "\(height) × 1: \(wide) bytes")
        }
        // Vertical pass first on the widest source it can have within 40
        // megapixels (the height must shrink by more than twice the width):
        // the intermediate holds 224 rows of the columns the taps read.
        let portrait = PillowResize.workingBytes(sourceWidth: 4400, sourceHeight: 9090, width: 256, height: 256, filter: .lanczos,
                                                 window: PillowResize.Window(columns: 16..<240, rows: 16..<240))
        #expect(portrait < 64 << 20, "4400 × 9090: \(portrait) bytes")
    }

    /// The peak of decoding plus preprocessing is known from IHDR and held to a budget.
    @Test func memoryBudgetIsCheckedFromTheHeader() throws {
        let photo = PNGHeader(width: 8000, height: 5000, bitDepth: 16, colorType: .rgba)
        let peak = try ImagePreprocessing.openNSFW.peakBytes(for: photo)
        // 320 MB of 16-bit RGBA, 120 MB of RGB, a little for the resize.
        #expect(peak > 440_000_000 && peak < 460_000_000, "\(peak)")
        try ImagePreprocessing.openNSFW.checkMemory(for: photo)
        #expect(throws: MediaError.self) { try ImagePreprocessing.openNSFW.checkMemory(for: photo, budget: 256 << 20) }
        // Within a raised pixel limit, but not within the memory budget.
        let huge = PNGHeader(width: 20000, height: 20000, bitDepth: 16, colorType: .rgba)
        do {
            try PNGDecoder(maximumPixels: 1 << 40).check(huge)
            Issue.record("a 3.2 GB decode passed the budget")
        } catch {
            #expect(error.kind == .tooLarge && error.message.contains("memory budget"), "\(error.message)")
        }
        let bytes = HostileMedia.png(width: 100, height: 100, bitDepth: 16, colorType: 6) { _ in [UInt8](repeating: 7, count: 800) }
        #expect(throws: MediaError.self) { try PNGDecoder(memoryBudget: 50_000).decode(bytes) }
        #expect(try PNGDecoder().decode(bytes).width == 100)
    }

    /// The streamed resize equals the plain algorithm (full 8-bit
    /// intermediate, passes in Pillow 13's order) on every filter, for up-
    /// and downscales, windows, blocks of one row and a table-less
    /// horizontal pass, with the vertical pass first or second.
    @Test(arguments: ResampleFilter.allCases)
    func streamedResizeEqualsTheFullIntermediate(_ filter: ResampleFilter) {
        let shapes: [(source: (Int, Int), target: (Int, Int), window: PillowResize.Window?)] = [
            ((97, 211), (13, 17), nil),
            ((5, 3), (40, 33), nil),
            ((3, 5000), (16, 16), PillowResize.Window(columns: 2..<14, rows: 3..<15)),
            ((3000, 2), (16, 9), nil),
            ((61, 47), (61, 20), PillowResize.Window(columns: 5..<50, rows: 0..<20)),
            ((61, 47), (30, 47), PillowResize.Window(columns: 1..<29, rows: 7..<40)),
            ((31, 29), (31, 29), PillowResize.Window(columns: 3..<9, rows: 4..<28)),
            ((40, 700), (50, 900), PillowResize.Window(columns: 0..<50, rows: 100..<800)),
            // Vertical pass first: the height shrinks by more than twice the width's shrink.
            ((10, 400), (25, 25), PillowResize.Window(columns: 2..<23, rows: 2..<23)),
            ((9, 32), (1, 15), nil),
            ((120, 90), (80, 20), PillowResize.Window(columns: 30..<80, rows: 5..<19)),
            ((1, 300), (7, 7), nil),
            // Exactly twice: horizontal first.
            ((9, 32), (1, 16), nil),
        ]
        for (source, target, window) in shapes {
            let pixels = (0..<(source.0 * source.1 * 3)).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761) >> 7) }
            let image = RGBImage(width: source.0, height: source.1, pixels: pixels)
            let expected = Self.reference(image, width: target.0, height: target.1, filter: filter, window: window)
            for (blockBytes, tableEntries) in [(PillowResize.blockBytes, PillowResize.maximumTableEntries), (1, 0), (200, 0), (1000, 1 << 20)] {
                let streamed = PillowResize.resize(image, width: target.0, height: target.1, filter: filter, window: window,
                                                   blockBytes: blockBytes, maximumTableEntries: tableEntries)
                #expect(streamed.pixels == expected, "\(source) → \(target) \(String(describing: window)) block \(blockBytes)")
            }
        }
    }

    /// Pillow 13's pass order, from `ImagingResampleInner`.
    @Test func passOrderFollowsPillow() {
        #expect(PillowResize.verticalPassFirst(sourceWidth: 10, sourceHeight: 4000, width: 256, height: 256))
        #expect(PillowResize.verticalPassFirst(sourceWidth: 200, sourceHeight: 300, width: 256, height: 256))
        #expect(!PillowResize.verticalPassFirst(sourceWidth: 4000, sourceHeight: 10, width: 256, height: 256))
        #expect(!PillowResize.verticalPassFirst(sourceWidth: 300, sourceHeight: 300, width: 256, height: 256))
        // The height shrinks by exactly twice the width's shrink: horizontal first.
        #expect(!PillowResize.verticalPassFirst(sourceWidth: 9, sourceHeight: 32, width: 1, height: 16))
        #expect(PillowResize.verticalPassFirst(sourceWidth: 9, sourceHeight: 32, width: 1, height: 15))
    }

    /// Pillow's two passes written plainly: the whole first pass kept in 8
    /// bits, the vertical one first when Pillow 13 runs it first.
    static func reference(_ image: RGBImage, width: Int, height: Int, filter: ResampleFilter,
                          window: PillowResize.Window?) -> [UInt8] {
        func taps(_ axis: ResampleAxis, _ position: Int) -> (first: Int, weights: [Int32]) {
            var weights = [Int32](repeating: 0, count: axis.maxTaps)
            var scratch = [Double](repeating: 0, count: axis.maxTaps)
            let (first, count) = weights.withUnsafeMutableBufferPointer { w in
                scratch.withUnsafeMutableBufferPointer { s in axis.weights(of: position, into: w.baseAddress!, scratch: s.baseAddress!) }
            }
            return (first, Array(weights.prefix(count)))
        }
        /// One pass over `pixels` (`size.width × size.height`), resampling
        /// columns (horizontal) or rows to `outputSize`.
        func pass(_ pixels: [UInt8], _ size: (width: Int, height: Int), horizontal: Bool, to outputSize: Int)
            -> (pixels: [UInt8], size: (width: Int, height: Int)) {
            let inputSize = horizontal ? size.width : size.height
            let axis = ResampleAxis(sourceSize: inputSize, sourceEnd: Float(inputSize), outputSize: outputSize, filter: filter)
            let out = horizontal ? (width: outputSize, height: size.height) : (width: size.width, height: outputSize)
            var result = [UInt8](repeating: 0, count: out.width * out.height * 3)
            for position in 0..<outputSize {
                let (first, weights) = taps(axis, position)
                for across in 0..<(horizontal ? size.height : size.width) {
                    for channel in 0..<3 {
                        var sum = ResampleAxis.roundingBias
                        for (tap, weight) in weights.enumerated() {
                            let (x, y) = horizontal ? (first + tap, across) : (across, first + tap)
                            sum &+= Int32(pixels[(y * size.width + x) * 3 + channel]) &* weight
                        }
                        let (x, y) = horizontal ? (position, across) : (across, position)
                        result[(y * out.width + x) * 3 + channel] = ResampleAxis.clip8(sum)
                    }
                }
            }
            return (result, out)
        }
        var current = (pixels: image.pixels, size: (width: image.width, height: image.height))
        let verticalFirst = PillowResize.verticalPassFirst(sourceWidth: image.width, sourceHeight: image.height,
                                                           width: width, height: height)
        for horizontal in verticalFirst ? [false, true] : [true, false] {
            let inputSize = horizontal ? current.size.width : current.size.height
            let outputSize = horizontal ? width : height
            if inputSize != outputSize { current = pass(current.pixels, current.size, horizontal: horizontal, to: outputSize) }
        }
        let window = window ?? PillowResize.Window(columns: 0..<width, rows: 0..<height)
        var cropped: [UInt8] = []
        for row in window.rows {
            cropped += current.pixels[((row * width + window.columns.lowerBound) * 3)..<((row * width + window.columns.upperBound) * 3)]
        }
        return cropped
    }
}
