import ArgumentParser
import Foundation
import QuernModels
import QuernTensor

/// `quern bench llm`: prompt processing and generation speed, measured the
/// way llama-bench measures pp512 and tg128 so the two can be compared side
/// by side: pp = one batched pass over N prompt tokens into an empty cache;
/// tg = N tokens generated one at a time into an empty cache. Token ids are
/// random (speed does not depend on them). Prints one JSON object.
///
/// tg draws each token with the sampler (`--temperature 0`, the default, is
/// greedy as in llama-bench; `--temperature 0.8 --top-p 0.95` measures the
/// daemon's sampled path), and `--parallel N` decodes N sequences together
/// as the daemon batches requests (tokens/s counts all of them).
struct LanguageModelBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "llm", abstract: "Measures prompt processing (pp) and generation (tg) tokens/s.")

    @OptionGroup var languageModel: LanguageModelOptions

    @Option(name: .customLong("prompt-tokens")) var promptTokens = 512
    @Option(name: .customLong("generate-tokens")) var generateTokens = 128
    @Option var repetitions = 3
    @Option(help: "Sampling temperature for tg; 0 is greedy.") var temperature: Float = 0
    @Option(name: .customLong("top-k")) var topK = SamplingParameters().topK
    @Option(name: .customLong("top-p")) var topP = SamplingParameters().topP
    @Option(name: .customLong("min-p")) var minP = SamplingParameters().minP
    @Option(help: "Sequences decoded together in tg, each generating --generate-tokens.") var parallel = 1

    @OptionGroup var compute: ComputeOptions

    func run() throws {
        _ = try compute.prepare()
        let loaded = try LanguageModelLoader.load(path: languageModel.path(chat: false))
        var generator = SeededGenerator(seed: 1)
        let vocabulary = loaded.model.vocabularySize
        func randomTokens(_ count: Int) -> [Int] { (0..<count).map { _ in Int.random(in: 0..<vocabulary, using: &generator) } }
        let clock = ContinuousClock()

        // One untimed warm-up of each, as llama-bench does.
        var pp: [Double] = [], tg: [Double] = []
        for repetition in 0...repetitions {
            if promptTokens > 0 {
                let state = loaded.model.makeState(capacity: promptTokens)
                let tokens = randomTokens(promptTokens)
                let start = clock.now
                _ = try loaded.model.forward(tokens, state: state, allLogits: false)
                if repetition > 0 { pp.append(Double(promptTokens) / seconds(clock.now - start)) }
            }
            if generateTokens > 0 {
                let states = (0..<parallel).map { _ in loaded.model.makeState(capacity: generateTokens) }
                var samplers = (0..<parallel).map { i in Sampler(sampling(seed: UInt64(repetition * parallel + i))) }
                var tokens = randomTokens(parallel)
                let start = clock.now
                for _ in 0..<generateTokens {
                    let logits = try loaded.model.forwardEach(tokens, states: states)
                    for i in 0..<parallel { tokens[i] = samplers[i].next(logits: logits.row(i), history: []) }
                }
                if repetition > 0 { tg.append(Double(generateTokens * parallel) / seconds(clock.now - start)) }
            }
        }
        func summary(_ values: [Double]) -> String {
            guard !values.isEmpty else { return "null" }
            let mean = values.reduce(0, +) / Double(values.count)
            let deviation = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(max(values.count - 1, 1))).squareRoot()
            return String(format: "{\"mean\": %.2f, \"stdev\": %.2f}", mean, deviation)
        }
        print("{\"engine\": \"quern\", \"model\": \"\(loaded.name)\", \"threads\": \(ComputeThreads.count), \"temperature\": \(temperature), \"parallel\": \(parallel), \"pp\": \(promptTokens), \"tg\": \(generateTokens), \"pp_tokens_per_second\": \(summary(pp)), \"tg_tokens_per_second\": \(summary(tg))}")
    }

    func validate() throws {
        guard parallel >= 1 && parallel <= 64 else { throw ValidationError("--parallel must be between 1 and 64") }
        guard temperature >= 0 && temperature.isFinite else { throw ValidationError("--temperature must be 0 or more") }
    }

    private func sampling(seed: UInt64) -> SamplingParameters {
        var parameters = SamplingParameters()
        parameters.temperature = temperature
        parameters.topK = topK
        parameters.topP = topP
        parameters.minP = minP
        parameters.seed = seed
        return parameters
    }

    private func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }
}
