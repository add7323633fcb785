import ArgumentParser
import Foundation
import QuernModels
import QuernTensor

/// `quern bench llm`: prompt processing and generation speed, measured the
/// way llama-bench measures pp512 and tg128 so the two can be compared side
/// by side: pp = one batched pass over N prompt tokens into an empty cache;
/// tg = N tokens generated one at a time into an empty cache. Token ids are
/// random (speed does not depend on them). Prints one JSON object.
struct LanguageModelBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "llm", abstract: "Measures prompt processing (pp) and generation (tg) tokens/s.")

    @OptionGroup var languageModel: LanguageModelOptions

    @Option(name: .customLong("prompt-tokens")) var promptTokens = 512
    @Option(name: .customLong("generate-tokens")) var generateTokens = 128
    @Option var repetitions = 3

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
                let state = loaded.model.makeState(capacity: generateTokens)
                var token = randomTokens(1)[0]
                let start = clock.now
                for _ in 0..<generateTokens {
                    let logits = try loaded.model.forward([token], state: state, allLogits: false)
                    token = logits.scalars.indices.max { logits[flat: $0] < logits[flat: $1] } ?? 0
                }
                if repetition > 0 { tg.append(Double(generateTokens) / seconds(clock.now - start)) }
            }
        }
        func summary(_ values: [Double]) -> String {
            guard !values.isEmpty else { return "null" }
            let mean = values.reduce(0, +) / Double(values.count)
            let deviation = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(max(values.count - 1, 1))).squareRoot()
            return String(format: "{\"mean\": %.2f, \"stdev\": %.2f}", mean, deviation)
        }
        print("{\"engine\": \"quern\", \"model\": \"\(loaded.name)\", \"threads\": \(ComputeThreads.count), \"pp\": \(promptTokens), \"tg\": \(generateTokens), \"pp_tokens_per_second\": \(summary(pp)), \"tg_tokens_per_second\": \(summary(tg))}")
    }

    private func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }
}
