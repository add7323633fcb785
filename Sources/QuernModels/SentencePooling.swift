import Foundation
import QuernFormats
import QuernTensor

/// How a sentence-transformers folder turns token states into one vector
/// (`1_Pooling/config.json`), and whether it L2-normalises the result (a
/// `Normalize` module in `modules.json`).
public struct SentencePooling: Sendable, Equatable {
    public enum Mode: String, Sendable {
        /// Average of the real tokens' states, `[CLS]` and `[SEP]` included.
        case mean
        /// The `[CLS]` state.
        case cls
        /// Element-wise maximum over the real tokens.
        case max
        /// Sum of the real tokens' states divided by √(token count).
        case meanSqrtLength
    }

    public var mode: Mode
    public var normalize: Bool

    public init(mode: Mode, normalize: Bool) {
        self.mode = mode
        self.normalize = normalize
    }

    /// Reads `1_Pooling/config.json`'s flags; exactly one mode must be on
    /// (sentence-transformers would concatenate several, which no default
    /// model does, so it is refused rather than half-supported).
    public init(configuration json: PoolingConfigFile, normalize: Bool, file: String) throws(FormatError) {
        let flags: [(Bool?, Mode)] = [
            (json.meanTokens, .mean), (json.clsToken, .cls), (json.maxTokens, .max), (json.meanSqrtLengthTokens, .meanSqrtLength),
        ]
        let chosen = flags.filter { $0.0 == true }.map(\.1)
        for (flag, name) in [(json.weightedMeanTokens, "pooling_mode_weightedmean_tokens"), (json.lastToken, "pooling_mode_lasttoken")] where flag == true {
            throw FormatError(.unsupportedType, file: file, "\(name) pooling is not supported")
        }
        guard chosen.count == 1, let mode = chosen.first else {
            throw FormatError(.invalidValue, file: file, "exactly one pooling mode must be enabled, found \(chosen.count)")
        }
        self.init(mode: mode, normalize: normalize)
    }

    /// One vector per sequence of `hidden` [count, width, dimension]; only
    /// the first `lengths[i]` positions of sequence i are real tokens.
    public func pool(_ hidden: Tensor, lengths: [Int]) -> [[Float]] {
        let count = hidden.shape[0], width = hidden.shape[1], dimension = hidden.shape[2]
        var vectors: [[Float]] = []
        vectors.reserveCapacity(count)
        for row in 0..<count {
            let length = Swift.max(0, Swift.min(lengths[row], width))
            // Only the real tokens' states, as one flat copy.
            let values = length > 0 ? hidden.row(row).rows(0..<length).scalars : []
            var vector = [Float](repeating: 0, count: dimension)
            switch mode {
            case .cls:
                if length > 0 { for d in 0..<dimension { vector[d] = values[d] } }
            case .max:
                if length > 0 {
                    for d in 0..<dimension { vector[d] = values[d] }
                    for t in 1..<Swift.max(length, 1) {
                        for d in 0..<dimension { vector[d] = Swift.max(vector[d], values[t * dimension + d]) }
                    }
                }
            case .mean, .meanSqrtLength:
                for t in 0..<length {
                    for d in 0..<dimension { vector[d] += values[t * dimension + d] }
                }
                // sentence-transformers clamps the token count at 1e-9.
                let divisor = mode == .mean ? Swift.max(Float(length), 1e-9) : Swift.max(Float(length), 1e-9).squareRoot()
                for d in 0..<dimension { vector[d] /= divisor }
            }
            vectors.append(normalize ? Self.normalized(vector) : vector)
        }
        return vectors
    }

    /// x / max(‖x‖, 1e-12), as torch.nn.functional.normalize.
    public static func normalized(_ vector: [Float]) -> [Float] {
        var sum: Float = 0
        for value in vector { sum += value * value }
        let norm = Swift.max(sum.squareRoot(), 1e-12)
        return vector.map { $0 / norm }
    }
}
