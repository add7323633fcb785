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
    /// OpenAI's `presence_penalty` (−2…2): subtracted once from the logit of
    /// every token already generated. Counts the generated tokens only (see
    /// `SamplerPenalties`).
    public var presencePenalty: Float = 0
    /// OpenAI's `frequency_penalty` (−2…2): subtracted from a token's logit
    /// once per time it was generated.
    public var frequencyPenalty: Float = 0
    /// The same seed, prompt and parameters give the same text. nil: the
    /// sampler draws one from the system's random source (callers that must
    /// report it, such as the daemon, settle it first with `withSeed()`).
    public var seed: UInt64?

    public init() {}

    public static var greedy: SamplingParameters {
        var parameters = SamplingParameters()
        parameters.temperature = 0
        return parameters
    }

    /// These parameters with a seed: the given one, or a fresh draw from
    /// the system's random source (getrandom), so two requests without a
    /// seed get different texts and each can be replayed with the seed it got.
    public func withSeed() -> SamplingParameters {
        var settled = self
        if settled.seed == nil {
            var system = SystemRandomNumberGenerator()
            settled.seed = system.next()
        }
        return settled
    }
}

public struct Sampler {
    public let parameters: SamplingParameters
    private var generator: SeededGenerator
    /// How often each token was generated so far (drawn by this sampler),
    /// for the presence and frequency penalties.
    private(set) var generatedCounts: [Int: Int] = [:]

    public init(_ parameters: SamplingParameters) {
        self.parameters = parameters.withSeed()
        generator = SeededGenerator(seed: self.parameters.seed ?? 0)
    }

    /// The next token from `logits` (one row), given the tokens so far
    /// (prompt and generated: the repetition penalty's window reaches into
    /// the prompt, as llama.cpp's does).
    public mutating func next(logits: Tensor, history: [Int]) -> Int {
        let token = choose(logits: logits, history: history)
        generatedCounts[token, default: 0] += 1
        return token
    }

    private mutating func choose(logits: Tensor, history: [Int]) -> Int {
        var values = logits.scalars
        let p = parameters
        if p.repetitionPenalty != 1 {
            // CTRL-style penalty on each distinct recent token, as llama.cpp.
            for token in Set(history.suffix(p.repetitionWindow)) where token >= 0 && token < values.count {
                values[token] = values[token] > 0 ? values[token] / p.repetitionPenalty : values[token] * p.repetitionPenalty
            }
        }
        SamplerPenalties.apply(to: &values, counts: generatedCounts, presence: p.presencePenalty, frequency: p.frequencyPenalty)
        if p.temperature <= 0 {
            var best = 0
            for i in values.indices where values[i] > values[best] { best = i }
            return best
        }
        // Candidates sorted by logit, cut by top-k: a partial selection, as
        // sorting the whole vocabulary (49,152 entries for SmolLM2) for every
        // token would cost more than the model's forward pass.
        var candidates: [Candidate]
        var probabilities: [Float]
        if p.topK > 0 && p.topK < values.count {
            candidates = Self.largest(values, count: p.topK)
            // Probabilities at temperature 1 for the top-p and min-p cuts.
            probabilities = softmaxValues(candidates.map(\.logit), temperature: 1)
        } else {
            (candidates, probabilities) = Self.nucleusCandidates(values, topP: p.topP, minP: p.minP)
        }
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

    typealias Candidate = (id: Int, logit: Float)

    /// The `count` largest logits, largest first (equal logits: lower id
    /// first), found with a min-heap of `count` entries instead of a sort.
    static func largest(_ values: [Float], count: Int) -> [Candidate] {
        let k = min(count, values.count)
        guard k > 0 else { return [] }
        // a ranks below b.
        func below(_ a: Candidate, _ b: Candidate) -> Bool { a.logit < b.logit || (a.logit == b.logit && a.id > b.id) }
        var heap: [Candidate] = []
        heap.reserveCapacity(k)
        func siftDown(_ start: Int) {
            var i = start
            while true {
                let left = 2 * i + 1, right = left + 1
                var lowest = i
                if left < heap.count && below(heap[left], heap[lowest]) { lowest = left }
                if right < heap.count && below(heap[right], heap[lowest]) { lowest = right }
                if lowest == i { return }
                heap.swapAt(i, lowest)
                i = lowest
            }
        }
        for (id, logit) in values.enumerated() {
            let candidate = (id: id, logit: logit)
            if heap.count < k {
                heap.append(candidate)
                var i = heap.count - 1
                while i > 0 && below(heap[i], heap[(i - 1) / 2]) {
                    heap.swapAt(i, (i - 1) / 2)
                    i = (i - 1) / 2
                }
            } else if below(heap[0], candidate) {
                heap[0] = candidate
                siftDown(0)
            }
        }
        return heap.sorted { below($1, $0) }
    }

    /// Without a top-k cut: the shortest prefix of the sorted vocabulary
    /// that the top-p and min-p cuts can need, with probabilities over the
    /// whole vocabulary. Tries the largest 64, then 4× more, until the prefix
    /// holds `topP` of the mass or reaches below the min-p threshold.
    static func nucleusCandidates(_ values: [Float], topP: Float, minP: Float) -> ([Candidate], [Float]) {
        guard let peak = values.max() else { return ([], []) }
        let total = values.reduce(Float(0)) { $0 + expf($1 - peak) }
        var size = min(64, values.count)
        while true {
            let candidates = largest(values, count: size)
            let probabilities = candidates.map { expf($0.logit - peak) / total }
            if size == values.count { return (candidates, probabilities) }
            let enoughMass = topP < 1 && probabilities.reduce(0, +) >= topP
            let belowMinP = minP > 0 && (probabilities.last ?? 0) < minP * (probabilities.first ?? 0)
            if enoughMass || belowMinP { return (candidates, probabilities) }
            size = min(values.count, size * 4)
        }
    }

    private func softmaxValues(_ logits: [Float], temperature: Float) -> [Float] {
        guard let peak = logits.max() else { return [] }
        let exps = logits.map { expf(($0 - peak) / temperature) }
        let total = exps.reduce(0, +)
        return exps.map { $0 / total }
    }
}

/// OpenAI's presence and frequency penalties: the logit of token j becomes
/// `logit[j] − count[j] · frequency − (count[j] > 0 ? presence : 0)`, where
/// `count[j]` is how often j was generated so far in this reply.
///
/// Unlike the repetition penalty (llama.cpp's `penalty_last_n` window of
/// recent tokens, prompt included), these count the generated tokens only,
/// the whole reply: the fields are OpenAI's, so they mean what OpenAI's
/// documentation says, and a chat prompt is mostly the template's markers
/// and the user's own words, which the reply should be free to use.
/// Costs one pass over the distinct generated tokens per step.
public enum SamplerPenalties {
    public static func apply(to values: inout [Float], counts: [Int: Int], presence: Float, frequency: Float) {
        guard presence != 0 || frequency != 0 else { return }
        for (token, count) in counts where token >= 0 && token < values.count && count > 0 {
            values[token] -= Float(count) * frequency + presence
        }
    }
}
