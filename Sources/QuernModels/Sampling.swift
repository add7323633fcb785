import QuernTensor

#if canImport(Glibc)
import Glibc
#endif

/// How the next token is chosen and when generation stops, with the field
/// names of the common chat-completion APIs (a request's values, or these
/// defaults). The default chain follows llama.cpp's: repetition penalty →
/// top-k → top-p → min-p → temperature → draw. Temperature 0 is greedy
/// (argmax after the penalty).
public struct SamplingParameters: Sendable, Equatable, Codable {
    /// What `maxTokens` means when nil.
    public static let defaultMaxTokens = 256

    /// The most tokens to generate (nil: `defaultMaxTokens`); generation
    /// also stops when the context is full.
    public var maxTokens: Int?
    /// Generation stops before the first of these strings the text would contain.
    public var stop: [String] = []
    public var temperature: Float = 0.8
    public var topK: Int = 40
    public var topP: Float = 0.95
    public var minP: Float = 0.05
    public var repetitionPenalty: Float = 1.0
    /// How many recent tokens the repetition penalty looks at.
    public var repetitionWindow: Int = 64
    /// The same seed, prompt and parameters give the same text.
    public var seed: UInt64 = 0

    public init() {}

    public static var greedy: SamplingParameters {
        var parameters = SamplingParameters()
        parameters.temperature = 0
        return parameters
    }
}

public struct Sampler {
    public let parameters: SamplingParameters
    private var generator: SeededGenerator

    public init(_ parameters: SamplingParameters) {
        self.parameters = parameters
        generator = SeededGenerator(seed: parameters.seed)
    }

    /// The next token from `logits` (one row), given the tokens so far.
    public mutating func next(logits: Tensor, history: [Int]) -> Int {
        var values = logits.scalars
        let p = parameters
        if p.repetitionPenalty != 1 {
            // CTRL-style penalty on each distinct recent token, as llama.cpp.
            for token in Set(history.suffix(p.repetitionWindow)) where token >= 0 && token < values.count {
                values[token] = values[token] > 0 ? values[token] / p.repetitionPenalty : values[token] * p.repetitionPenalty
            }
        }
        if p.temperature <= 0 {
            var best = 0
            for i in values.indices where values[i] > values[best] { best = i }
            return best
        }
        // Candidates sorted by logit, cut by top-k.
        var candidates = values.indices.map { (id: $0, logit: values[$0]) }
        let k = p.topK > 0 ? min(p.topK, candidates.count) : candidates.count
        candidates = Array(candidates.sorted { $0.logit > $1.logit }.prefix(k))
        // Probabilities at temperature 1 for the top-p and min-p cuts.
        var probabilities = softmaxValues(candidates.map(\.logit), temperature: 1)
        if p.topP < 1 {
            var total: Float = 0, keep = 0
            while keep < probabilities.count {
                total += probabilities[keep]
                keep += 1
                if total >= p.topP { break }
            }
            candidates = Array(candidates.prefix(max(keep, 1)))
            probabilities = Array(probabilities.prefix(candidates.count))
        }
        if p.minP > 0, let top = probabilities.first {
            let keep = max(1, probabilities.prefix { $0 >= p.minP * top }.count)
            candidates = Array(candidates.prefix(keep))
        }
        let final = softmaxValues(candidates.map(\.logit), temperature: p.temperature)
        let draw = Float(Double(generator.next() >> 11) / Double(1 << 53))
        var cumulative: Float = 0
        for (index, probability) in final.enumerated() {
            cumulative += probability
            if draw < cumulative { return candidates[index].id }
        }
        return candidates.last?.id ?? 0
    }

    private func softmaxValues(_ logits: [Float], temperature: Float) -> [Float] {
        guard let peak = logits.max() else { return [] }
        let exps = logits.map { expf(($0 - peak) / temperature) }
        let total = exps.reduce(0, +)
        return exps.map { $0 / total }
    }
}
