import Foundation
import QuernTensor

/// A decoder cross-attention head whose attention over the audio follows
/// the timing of the words (the model folder's `alignment_heads`).
public struct WhisperAlignmentHead: Sendable, Equatable {
    public var layer: Int
    public var head: Int

    public init(layer: Int, head: Int) {
        self.layer = layer
        self.head = head
    }
}

/// How the text tokens of one window line up with its encoder frames:
/// CTranslate2's `Whisper.align`, which faster-whisper's word timestamps use.
struct WhisperTokenAlignment {
    /// The dynamic-time-warping path as (text row, encoder frame) pairs; row
    /// `textTokens.count` is end-of-text.
    var path: [(text: Int, time: Int)]
    /// Each text token's probability given the ones before it, over the
    /// text vocabulary only (the ids below end-of-text).
    var textTokenProbabilities: [Float]
}

extension WhisperTranscriber {
    /// faster-whisper passes CTranslate2's `median_filter_width` 7.
    static let alignmentMedianFilterWidth = 7

    /// Aligns `textTokens` with the encoder frames of `session`'s window, of
    /// which the first `frames` mel frames (`frames / 2` encoder frames)
    /// hold audio — as CTranslate2's `Whisper.align` does it:
    /// the decoder runs once over `sot-sequence <|notimestamps|> text
    /// <|endoftext|>`; each alignment head's cross-attention scores over the
    /// audio frames go through a softmax, are standardised over the tokens
    /// (per frame), median-filtered along time (width 7, reflected edges),
    /// averaged over the heads; the rows from the first text token to
    /// end-of-text are the cost (negated) of a dynamic-time-warping path.
    func alignTokens(_ textTokens: [Int], session: WhisperDecoderSession, frames: Int) throws(ModelError) -> WhisperTokenAlignment {
        guard !alignmentHeads.isEmpty else {
            throw ModelError(.invalidConfig, "the speech model's folder names no alignment_heads (config.json or generation_config.json), which word timestamps need")
        }
        let config = model.config, s = specials
        let startSequence = s.prompt(withTimestamps: true)
        let input = startSequence + [s.noTimestamps] + textTokens + [s.endOfText]
        guard input.count <= config.targetPositions else {
            throw ModelError(.contextFull, "\(input.count) tokens to align exceed the decoder's \(config.targetPositions) positions")
        }
        session.reset()
        let layers = Set(alignmentHeads.map(\.layer))
        var queries: [Int: Tensor] = [:]
        let logits = try session.step(input, allLogits: true, crossQueries: { layer, layerQueries in
            if layers.contains(layer) { queries[layer] = layerQueries }
        })
        session.reset()

        // The probability of each text token, over the ids below end-of-text.
        var probabilities: [Float] = []
        probabilities.reserveCapacity(textTokens.count)
        for (offset, token) in textTokens.enumerated() {
            let row = logits.row(startSequence.count + offset).scalars[0..<s.endOfText]
            let maximum = row.max() ?? 0
            var sum: Float = 0
            for value in row { sum += Foundation.exp(value - maximum) }
            probabilities.append(Foundation.exp(row[token] - maximum) / sum)
        }

        let audioFrames = min(frames / Self.framesPerEncoderStep, session.crossKeys.first?.shape[1] ?? 0)
        guard audioFrames > 0 else { return WhisperTokenAlignment(path: [], textTokenProbabilities: probabilities) }

        let length = input.count
        let headDimension = config.width / config.decoderHeads
        let scale = 1 / Float(headDimension).squareRoot()
        var mean = [Float](repeating: 0, count: length * audioFrames)
        for head in alignmentHeads {
            guard let layerQueries = queries[head.layer] else {
                throw ModelError(.invalidConfig, "alignment head \(head.layer):\(head.head) names a decoder layer the model does not have")
            }
            let query = layerQueries.columns(head.head * headDimension..<(head.head + 1) * headDimension)
            let keys = session.crossKeys[head.layer].row(head.head).rows(0..<audioFrames)
            var weights = matmul(query, keys, transposeB: true).scalars
            Self.softmaxRows(&weights, rows: length, columns: audioFrames, scale: scale)
            Self.standardiseColumns(&weights, rows: length, columns: audioFrames)
            let filtered = Self.medianFilterRows(weights, rows: length, columns: audioFrames, width: Self.alignmentMedianFilterWidth)
            for index in mean.indices { mean[index] += filtered[index] }
        }
        let headCount = Float(alignmentHeads.count)
        for index in mean.indices { mean[index] /= headCount }
        let firstRow = startSequence.count
        let matrix = Array(mean[firstRow * audioFrames..<(firstRow + textTokens.count + 1) * audioFrames])
        let path = Self.negativeDTW(matrix, rows: textTokens.count + 1, columns: audioFrames)
        return WhisperTokenAlignment(path: path, textTokenProbabilities: probabilities)
    }

    /// softmax(scale · x) along each row.
    static func softmaxRows(_ values: inout [Float], rows: Int, columns: Int, scale: Float) {
        for row in 0..<rows {
            let base = row * columns
            var maximum = -Float.infinity
            for column in 0..<columns { maximum = max(maximum, values[base + column] * scale) }
            var sum: Float = 0
            for column in 0..<columns {
                let e = Foundation.exp(values[base + column] * scale - maximum)
                values[base + column] = e
                sum += e
            }
            for column in 0..<columns { values[base + column] /= sum }
        }
    }

    /// (x − mean) / std over the rows of each column (population standard
    /// deviation, no epsilon: CTranslate2's `LayerNorm(-2, 0)`). A column
    /// whose rows are all equal becomes zeros instead of NaN.
    static func standardiseColumns(_ values: inout [Float], rows: Int, columns: Int) {
        for column in 0..<columns {
            var sum: Double = 0
            for row in 0..<rows { sum += Double(values[row * columns + column]) }
            let mean = sum / Double(rows)
            var squares: Double = 0
            for row in 0..<rows {
                let difference = Double(values[row * columns + column]) - mean
                squares += difference * difference
            }
            let deviation = (squares / Double(rows)).squareRoot()
            for row in 0..<rows {
                let index = row * columns + column
                values[index] = deviation > 0 ? Float((Double(values[index]) - mean) / deviation) : 0
            }
        }
    }

    /// The median of each `width` window along every row, the row reflected
    /// at its ends (without repeating the edge); rows no longer than half
    /// the width are left as they are (CTranslate2's `MedianFilter`).
    static func medianFilterRows(_ values: [Float], rows: Int, columns: Int, width: Int) -> [Float] {
        let half = width / 2
        guard columns > half else { return values }
        var output = values
        var window = [Float](repeating: 0, count: width)
        for row in 0..<rows {
            let base = row * columns
            for column in 0..<columns {
                for k in -half...half {
                    var read = abs(column + k)
                    if read >= columns { read = columns - (read - columns) - 2 }
                    window[k + half] = values[base + read]
                }
                window.sort()
                output[base + column] = window[half]
            }
        }
        return output
    }

    /// Dynamic time warping over the cost −x ([rows, columns]), with
    /// CTranslate2's tie-breaking (a diagonal or vertical step only when
    /// strictly cheapest, otherwise horizontal); the path from (0, 0) to
    /// the last cell as (row, column) pairs.
    static func negativeDTW(_ x: [Float], rows n: Int, columns m: Int) -> [(text: Int, time: Int)] {
        let stride = m + 1
        var cost = [Float](repeating: .infinity, count: (n + 1) * stride)
        var trace = [Int8](repeating: -1, count: (n + 1) * stride)
        cost[0] = 0
        for j in 1...m {
            for i in 1...n {
                let c0 = cost[(i - 1) * stride + j - 1], c1 = cost[(i - 1) * stride + j], c2 = cost[i * stride + j - 1]
                let c: Float, t: Int8
                if c0 < c1 && c0 < c2 {
                    (c, t) = (c0, 0)
                } else if c1 < c0 && c1 < c2 {
                    (c, t) = (c1, 1)
                } else {
                    (c, t) = (c2, 2)
                }
                cost[i * stride + j] = -x[(i - 1) * m + (j - 1)] + c
                trace[i * stride + j] = t
            }
        }
        for k in 0...m { trace[k] = 2 }
        for k in 0...n { trace[k * stride] = 1 }
        var path: [(text: Int, time: Int)] = []
        var i = n, j = m
        while i > 0 || j > 0 {
            path.append((i - 1, j - 1))
            switch trace[i * stride + j] {
            case 0: i -= 1; j -= 1
            case 1: i -= 1
            default: j -= 1
            }
        }
        return path.reversed()
    }
}
