import QuernTensor

/// Pillow's convolution resize (`Image.resize(size, filter)` on an RGB
/// image, i.e. `ImagingResample`), bit-exact: two passes, each accumulating
/// 8-bit samples times 2^22 fixed-point weights in 32-bit integers from a
/// rounding bias of 2^21 and clipping to 8 bits, so the second pass reads
/// the first's 8-bit results. A pass whose axis keeps its size is skipped,
/// as in Pillow.
///
/// The order of the passes changes the 8-bit intermediate, so it follows
/// Pillow 13 (python-pillow/Pillow#9549): the vertical pass runs first when
/// the height shrinks by more than twice as many pixels as the width
/// (`verticalPassFirst`: a 10×4000 strip or a 200×300 portrait to 256×256),
/// the horizontal pass first otherwise.
///
/// Memory is bounded by the output, not the source:
/// - horizontal first: the source rows the vertical pass reads are streamed
///   a block at a time — horizontally resampled into a small 8-bit block,
///   then added into Int32 accumulators of just the output rows whose support
///   holds them (a ring; a row is clipped to 8 bits as soon as its last source
///   row is in). Integer sums do not depend on the order of their terms, so
///   this equals Pillow's full 8-bit intermediate bit for bit.
/// - vertical first: the intermediate has only the output's rows, and only
///   the source columns the horizontal taps of the output's columns read.
/// Weights are kept per output position only (compact table), or computed
/// when a position is reached when even that would be large (a
/// 40,000,000-pixel axis shrunk to 256).
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

    /// Bytes of 8-bit horizontally resampled rows held at once (one block).
    static let blockBytes = 1 << 20
    /// Largest horizontal weight table kept whole (Int32 entries, 16 MB);
    /// above it, each block computes its columns' weights as it goes.
    static let maximumTableEntries = 1 << 22

    /// Pillow 13's choice of pass order (`ImagingResampleInner`): vertical
    /// first when the height shrinks, and by more than twice the pixels the
    /// width shrinks (a growing width counts as a negative shrink). Only
    /// matters when both passes run.
    static func verticalPassFirst(sourceWidth: Int, sourceHeight: Int, width: Int, height: Int) -> Bool {
        let heightShrink = sourceHeight - height
        return heightShrink > 0 && heightShrink > (sourceWidth - width) * 2
    }

    public static func resize(
        _ image: RGBImage, width: Int, height: Int, filter: ResampleFilter, window: Window? = nil
    ) -> RGBImage {
        resize(image, width: width, height: height, filter: filter, window: window,
               blockBytes: blockBytes, maximumTableEntries: maximumTableEntries)
    }

    /// `resize` with the block size and the table bound chosen (tests use
    /// tiny ones to cross every block and ring boundary on small images).
    static func resize(
        _ image: RGBImage, width: Int, height: Int, filter: ResampleFilter, window: Window?,
        blockBytes: Int, maximumTableEntries: Int
    ) -> RGBImage {
        precondition(width > 0 && height > 0, "resize needs a positive size")
        let window = window ?? Window(columns: 0..<width, rows: 0..<height)
        precondition(window.columns.lowerBound >= 0 && window.columns.upperBound <= width && !window.columns.isEmpty
                     && window.rows.lowerBound >= 0 && window.rows.upperBound <= height && !window.rows.isEmpty,
                     "resize window outside the output")
        let plan = Plan(sourceWidth: image.width, sourceHeight: image.height, width: width, height: height,
                        filter: filter, window: window, blockBytes: blockBytes, maximumTableEntries: maximumTableEntries)
        var output = [UInt8](repeating: 0, count: plan.samplesPerRow * window.rows.count)
        image.withPixels { source in
            output.withUnsafeMutableBufferPointer { target in
                guard let out = target.baseAddress else { return }
                let sourceRows = SourceRows(pixels: source, rowBytes: image.width * 3, firstColumn: 0)
                switch plan.order {
                case let .verticalFirst(vertical, heldColumns):
                    resizeVerticalFirst(plan: plan, vertical: vertical, heldColumns: heldColumns, source: sourceRows,
                                        output: out)
                case let .horizontalFirst(vertical):
                    let horizontal = HorizontalPass(plan: plan, source: sourceRows)
                    if let vertical {
                        streamVertical(plan: plan, vertical: vertical, horizontal: horizontal, output: out)
                    } else {
                        // Rows keep their size: each output row is one source row.
                        horizontal.produce(rows: window.rows, into: out)
                    }
                }
            }
        }
        return RGBImage(width: window.columns.count, height: window.rows.count, pixels: output)
    }

    /// Bytes a resize allocates besides its source and its output: the
    /// block or the intermediate, the accumulators and weights of the rows in
    /// flight, the horizontal table. For budgets checked before decoding.
    public static func workingBytes(sourceWidth: Int, sourceHeight: Int, width: Int, height: Int,
                                    filter: ResampleFilter, window: Window? = nil) -> Int {
        let window = window ?? Window(columns: 0..<width, rows: 0..<height)
        let plan = Plan(sourceWidth: sourceWidth, sourceHeight: sourceHeight, width: width, height: height,
                        filter: filter, window: window, blockBytes: blockBytes, maximumTableEntries: maximumTableEntries)
        var bytes = plan.horizontalTableEntries * 4 + window.columns.count * 24
        if let horizontal = plan.horizontal, plan.horizontalTableEntries == 0 {
            bytes += ComputeThreads.count * horizontal.maxTaps * 12
        }
        switch plan.order {
        case let .verticalFirst(vertical, heldColumns):
            let heldSamples = heldColumns.count * 3
            bytes += window.rows.count * heldSamples
            bytes += ComputeThreads.count * (heldSamples * 4 + vertical.maxTaps * 12)
        case let .horizontalFirst(vertical):
            bytes += plan.samplesPerRow * plan.blockRows
            if let vertical {
                bytes += vertical.ringRows * (plan.samplesPerRow * 4 + vertical.axis.maxTaps * 4)
                bytes += vertical.axis.maxTaps * 8 + window.rows.count * 16
            }
        }
        return bytes
    }

    /// What a resize will do, decided before any pixel is touched.
    struct Plan {
        /// The passes and their order. Horizontal first carries the streamed
        /// vertical pass's bookkeeping (nil when the height stays); vertical
        /// first carries the vertical axis and the source columns the
        /// horizontal pass reads (all that the intermediate keeps).
        enum Order {
            case horizontalFirst(VerticalPlan?)
            case verticalFirst(ResampleAxis, heldColumns: Range<Int>)
        }

        let window: Window
        let horizontal: ResampleAxis?
        let order: Order
        let samplesPerRow: Int
        /// Source rows resampled horizontally per block (horizontal first).
        let blockRows: Int
        /// Entries of the horizontal table, 0 when weights are computed per block.
        let horizontalTableEntries: Int

        init(sourceWidth: Int, sourceHeight: Int, width: Int, height: Int, filter: ResampleFilter, window: Window,
             blockBytes: Int, maximumTableEntries: Int) {
            self.window = window
            samplesPerRow = window.columns.count * 3
            let horizontal = width != sourceWidth
                ? ResampleAxis(sourceSize: sourceWidth, sourceEnd: Float(sourceWidth), outputSize: width, filter: filter)
                : nil
            self.horizontal = horizontal
            if let horizontal {
                let entries = ResampleCoefficients.entries(horizontal, positions: window.columns)
                horizontalTableEntries = entries <= maximumTableEntries ? entries : 0
            } else {
                horizontalTableEntries = 0
            }
            let blockRows = min(max(blockBytes / max(samplesPerRow, 1), 1), 4096)
            self.blockRows = blockRows
            let vertical = height != sourceHeight
                ? ResampleAxis(sourceSize: sourceHeight, sourceEnd: Float(sourceHeight), outputSize: height, filter: filter)
                : nil
            if let horizontal, let vertical,
               PillowResize.verticalPassFirst(sourceWidth: sourceWidth, sourceHeight: sourceHeight, width: width, height: height) {
                order = .verticalFirst(vertical, heldColumns: horizontal.sourceSpan(of: window.columns))
            } else {
                order = .horizontalFirst(vertical.map { VerticalPlan(axis: $0, positions: window.rows, blockRows: blockRows) })
            }
        }
    }

    /// The vertical pass's bookkeeping when it streams after the horizontal
    /// one: each output row's source rows (`starts[i] ..< ends[i]`, both
    /// non-decreasing in `i`), and how many output rows can be in flight
    /// during one block (the ring's size).
    struct VerticalPlan {
        let axis: ResampleAxis
        let positions: Range<Int>
        let starts: [Int]
        let ends: [Int]
        let firstSourceRow: Int
        let endSourceRow: Int
        let ringRows: Int

        init(axis: ResampleAxis, positions: Range<Int>, blockRows: Int) {
            var starts = [Int](repeating: 0, count: positions.count)
            var ends = [Int](repeating: 0, count: positions.count)
            for position in positions {
                let (first, count) = axis.bounds(of: position)
                starts[position - positions.lowerBound] = first
                ends[position - positions.lowerBound] = first + count
            }
            self.axis = axis
            self.positions = positions
            firstSourceRow = starts.first ?? 0
            endSourceRow = max(ends.last ?? 0, firstSourceRow)
            // Rows alive in a block: started before its end, not ended before its start.
            var most = 1
            var started = 0, ended = 0
            var blockStart = firstSourceRow
            while blockStart < endSourceRow {
                let blockEnd = min(blockStart + blockRows, endSourceRow)
                while started < starts.count && starts[started] < blockEnd { started += 1 }
                while ended < ends.count && ends[ended] <= blockStart { ended += 1 }
                most = max(most, started - ended)
                blockStart = blockEnd
            }
            ringRows = min(most, max(positions.count, 1))
            self.starts = starts
            self.ends = ends
        }
    }

    /// Rows of 8-bit RGB pixels a horizontal pass reads: the source image, or
    /// the vertical pass's intermediate, which holds only the source columns
    /// `firstColumn…` the taps need.
    struct SourceRows {
        let pixels: UnsafeBufferPointer<UInt8>
        let rowBytes: Int
        let firstColumn: Int
    }

    /// The horizontal pass over whole rows (or a plain copy of the window's
    /// columns when the width stays).
    struct HorizontalPass {
        let axis: ResampleAxis?
        let columns: Range<Int>
        let source: SourceRows
        let table: ResampleCoefficients?

        init(plan: Plan, source: SourceRows) {
            axis = plan.horizontal
            columns = plan.window.columns
            self.source = source
            if let axis = plan.horizontal, plan.horizontalTableEntries > 0 {
                table = ResampleCoefficients(axis, positions: plan.window.columns)
            } else {
                table = nil
            }
        }

        /// Resamples rows `rows` of the source into consecutive rows of
        /// `target`, split over the compute threads.
        func produce(rows: Range<Int>, into target: UnsafeMutablePointer<UInt8>) {
            guard let input = source.pixels.baseAddress else { return }
            let samples = columns.count * 3
            let rowBytes = source.rowBytes
            let firstRow = rows.lowerBound
            // Where source column `column` sits in a row.
            let columnOffset = -source.firstColumn * 3
            guard let axis else {
                let from = columns.lowerBound * 3 + columnOffset
                parallelFor(rows.count, grain: 64) { chunk in
                    for index in chunk {
                        (target + index * samples).update(from: input + (firstRow + index) * rowBytes + from, count: samples)
                    }
                }
                return
            }
            let inputEnd = input + source.pixels.count
            if let table {
                table.weights.withUnsafeBufferPointer { weights in
                    guard let weightBase = weights.baseAddress else { return }
                    parallelFor(rows.count, grain: 16) { chunk in
                        for index in chunk {
                            let rowStart = input + (firstRow + index) * rowBytes + columnOffset
                            let outputRow = target + index * samples
                            for column in 0..<table.positions.count {
                                Self.apply(weightBase + table.offsets[column], count: table.counts[column],
                                           pixel: rowStart + table.starts[column] * 3, inputEnd: inputEnd,
                                           to: outputRow + column * 3)
                            }
                        }
                    }
                }
                return
            }
            // No table: each output column's weights are computed once per
            // call and applied to every row.
            let columns = columns
            parallelFor(columns.count, grain: 8) { chunk in
                withUnsafeTemporaryAllocation(of: Int32.self, capacity: axis.maxTaps) { weights in
                    withUnsafeTemporaryAllocation(of: Double.self, capacity: axis.maxTaps) { scratch in
                        guard let weights = weights.baseAddress, let scratch = scratch.baseAddress else { return }
                        for column in chunk {
                            let (first, count) = axis.weights(of: columns.lowerBound + column, into: weights, scratch: scratch)
                            for index in 0..<rows.count {
                                let rowStart = input + (firstRow + index) * rowBytes + columnOffset
                                Self.apply(weights, count: count, pixel: rowStart + first * 3, inputEnd: inputEnd,
                                           to: target + index * samples + column * 3)
                            }
                        }
                    }
                }
            }
        }

        /// One output pixel of the horizontal pass: `count` taps from `pixel`.
        /// R, G and B of one tap are one SIMD multiply-add.
        @inline(__always)
        static func apply(_ taps: UnsafePointer<Int32>, count: Int, pixel start: UnsafePointer<UInt8>,
                          inputEnd: UnsafePointer<UInt8>, to out: UnsafeMutablePointer<UInt8>) {
            var sum = SIMD4<Int32>(repeating: ResampleAxis.roundingBias)
            var pixel = start
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
            out[0] = ResampleAxis.clip8(sum[0])
            out[1] = ResampleAxis.clip8(sum[1])
            out[2] = ResampleAxis.clip8(sum[2])
        }
    }

    /// The vertical pass, streamed: a block of source rows is resampled
    /// horizontally, then each row of the block is added into the
    /// accumulators of the output rows that read it. An output row enters
    /// the ring (weights computed, accumulators at the rounding bias) in the
    /// block holding its first source row and leaves it, clipped to 8 bits,
    /// after the block holding its last.
    private static func streamVertical(plan: Plan, vertical: VerticalPlan, horizontal: HorizontalPass,
                                       output: UnsafeMutablePointer<UInt8>) {
        let samples = plan.samplesPerRow
        let ring = vertical.ringRows
        let maxTaps = vertical.axis.maxTaps
        let block = UnsafeMutablePointer<UInt8>.allocate(capacity: samples * plan.blockRows)
        let sums = UnsafeMutablePointer<Int32>.allocate(capacity: samples * ring)
        let weights = UnsafeMutablePointer<Int32>.allocate(capacity: maxTaps * ring)
        let scratch = UnsafeMutablePointer<Double>.allocate(capacity: maxTaps)
        defer {
            block.deallocate()
            sums.deallocate()
            weights.deallocate()
            scratch.deallocate()
        }
        let starts = vertical.starts, ends = vertical.ends
        let outputRows = starts.count
        var entered = 0, left = 0
        var blockStart = vertical.firstSourceRow
        while blockStart < vertical.endSourceRow {
            let blockEnd = min(blockStart + plan.blockRows, vertical.endSourceRow)
            // Rows whose support starts in this block enter the ring.
            while entered < outputRows && starts[entered] < blockEnd {
                let slot = entered % ring
                vertical.axis.weights(of: vertical.positions.lowerBound + entered, into: weights + slot * maxTaps,
                                      scratch: scratch)
                (sums + slot * samples).update(repeating: ResampleAxis.roundingBias, count: samples)
                entered += 1
            }
            let live = left..<entered
            horizontal.produce(rows: blockStart..<blockEnd, into: block)
            // Each thread adds the whole block into its own columns of the live rows.
            let firstSourceRow = blockStart
            parallelFor(samples, grain: 256) { chunk in
                for output in live {
                    let start = max(starts[output], firstSourceRow), end = min(ends[output], blockEnd)
                    guard start < end else { continue }
                    let slot = output % ring
                    let sum = sums + slot * samples
                    let taps = weights + slot * maxTaps
                    for sourceRow in start..<end {
                        let weight = taps[sourceRow - starts[output]]
                        let row = block + (sourceRow - firstSourceRow) * samples
                        for index in chunk {
                            sum[index] &+= Int32(row[index]) &* weight
                        }
                    }
                }
            }
            // Rows whose support ended in this block leave it, clipped.
            while left < entered && ends[left] <= blockEnd {
                let sum = sums + (left % ring) * samples
                let row = output + left * samples
                for index in 0..<samples { row[index] = ResampleAxis.clip8(sum[index]) }
                left += 1
            }
            blockStart = blockEnd
        }
        // Rows reading no source row at all keep Pillow's value for an empty sum: 0.
    }

    /// Vertical pass first (Pillow's order when the height shrinks much more
    /// than the width): each output row of the window is resampled from its
    /// source rows into an 8-bit intermediate holding only `heldColumns`,
    /// then the horizontal pass resamples those rows. Output rows are split
    /// over the compute threads, each with its own accumulators and weights.
    private static func resizeVerticalFirst(plan: Plan, vertical: ResampleAxis, heldColumns: Range<Int>,
                                            source: SourceRows, output: UnsafeMutablePointer<UInt8>) {
        guard let input = source.pixels.baseAddress else { return }
        let rows = plan.window.rows
        let heldSamples = heldColumns.count * 3
        let intermediate = UnsafeMutablePointer<UInt8>.allocate(capacity: max(rows.count * heldSamples, 1))
        defer { intermediate.deallocate() }
        let heldFrom = heldColumns.lowerBound * 3
        let maxTaps = vertical.maxTaps
        parallelFor(rows.count) { chunk in
            withUnsafeTemporaryAllocation(of: Int32.self, capacity: max(heldSamples, 1)) { sums in
                withUnsafeTemporaryAllocation(of: Int32.self, capacity: maxTaps) { weights in
                    withUnsafeTemporaryAllocation(of: Double.self, capacity: maxTaps) { scratch in
                        guard let sums = sums.baseAddress, let weights = weights.baseAddress,
                              let scratch = scratch.baseAddress else { return }
                        for index in chunk {
                            let (first, count) = vertical.weights(of: rows.lowerBound + index, into: weights, scratch: scratch)
                            sums.update(repeating: ResampleAxis.roundingBias, count: heldSamples)
                            for tap in 0..<count {
                                let weight = weights[tap]
                                let row = input + (first + tap) * source.rowBytes + heldFrom
                                for sample in 0..<heldSamples {
                                    sums[sample] &+= Int32(row[sample]) &* weight
                                }
                            }
                            let target = intermediate + index * heldSamples
                            for sample in 0..<heldSamples { target[sample] = ResampleAxis.clip8(sums[sample]) }
                        }
                    }
                }
            }
        }
        let held = SourceRows(pixels: UnsafeBufferPointer(start: intermediate, count: rows.count * heldSamples),
                              rowBytes: heldSamples, firstColumn: heldColumns.lowerBound)
        HorizontalPass(plan: plan, source: held).produce(rows: 0..<rows.count, into: output)
    }
}
