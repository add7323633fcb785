import Foundation
@testable import QuernModels
import QuernTensor
import QuernTestSupport
import Testing

@Suite struct SamplingPenaltyTests {
    /// OpenAI's formula: logit − count·frequency − [count > 0]·presence, on
    /// the generated tokens only.
    @Test func presenceAndFrequencyChangeTheLogitsAsOpenAIDefines() {
        var values: [Float] = [1, 2, 3, 4, 5]
        SamplerPenalties.apply(to: &values, counts: [1: 1, 3: 3, 9: 2], presence: 0.5, frequency: 0.25)
        #expect(values == [1, 2 - 0.25 - 0.5, 3, 4 - 0.75 - 0.5, 5])
        // Negative values encourage repeats.
        var encouraged: [Float] = [0, 0]
        SamplerPenalties.apply(to: &encouraged, counts: [0: 2], presence: -1, frequency: -0.5)
        #expect(encouraged == [2, 0])
        var untouched: [Float] = [1, 2]
        SamplerPenalties.apply(to: &untouched, counts: [0: 4], presence: 0, frequency: 0)
        #expect(untouched == [1, 2])
    }

    /// The sampler counts what it drew: a greedy sampler with a presence
    /// penalty moves off a token once it has produced it, and the prompt
    /// (the history) does not count.
    @Test func theSamplerPenalisesOnlyWhatItGenerated() throws {
        let logits = try Tensor(shape: [3], values: [2.0, 1.5, 0])
        var parameters = SamplingParameters.greedy
        parameters.presencePenalty = 1
        var sampler = Sampler(parameters)
        #expect(sampler.next(logits: logits, history: [0, 0, 0]) == 0)  // the prompt's 0s do not count
        #expect(sampler.next(logits: logits, history: [0, 0, 0, 0]) == 1)  // 2 − 1 < 1.5
        #expect(sampler.next(logits: logits, history: []) == 0)  // 1 vs 1.5 − 1
        parameters.presencePenalty = 0
        parameters.frequencyPenalty = 0.3
        var frequency = Sampler(parameters)
        let drawn = (0..<4).map { _ in frequency.next(logits: logits, history: []) }
        // 2.0, then 1.7 > 1.5, then 1.4 < 1.5, then 1.4 vs 1.2.
        #expect(drawn == [0, 0, 1, 0])
    }

    /// Without a seed each sampler draws its own from the system's random
    /// source, and reports it: the same seed gives the same draws.
    @Test func withoutASeedEachSamplerDrawsAFreshOneThatReplays() throws {
        let logits = try Tensor(shape: [6], values: [1.0, 3.0, 2.9, 0.5, -1, 2.95])
        var parameters = SamplingParameters()
        parameters.temperature = 2
        parameters.minP = 0
        #expect(parameters.seed == nil)
        let seeds = (0..<2).map { _ in Sampler(parameters).parameters.seed }
        #expect(seeds[0] != nil && seeds[1] != nil && seeds[0] != seeds[1])
        var first = Sampler(parameters)
        var replay = Sampler(first.parameters)
        let a = (0..<64).map { _ in first.next(logits: logits, history: []) }
        let b = (0..<64).map { _ in replay.next(logits: logits, history: []) }
        #expect(a == b)
        #expect(parameters.withSeed().seed != nil && parameters.withSeed().seed != parameters.withSeed().seed)
    }
}

@Suite struct PrefixReuseTests {
    /// Turn 2 of a chat, decoded from turn 1's kept state (prompt and reply)
    /// gives the tokens a full prompt pass gives; the logits of the first
    /// reply token are compared too.
    @Test func aCachedPrefixGivesTheTokensOfAFullPromptPass() throws {
        guard let loaded = try GenerationTests.smolLM2() else { return }
        let template = loaded.chatTemplate!
        var greedy = SamplingParameters.greedy
        greedy.maxTokens = 24
        let first = [ChatMessage(role: .user, content: "My name is Ada and I like red apples.")]
        let turn1Prompt = loaded.tokens(forChat: first, template: template)
        let turn1 = try loaded.generator.generate(batch: [GenerationRequest(prompt: turn1Prompt, sampling: greedy)])[0].get()
        let state = try #require(turn1.state)
        let kept = Array((turn1Prompt + turn1.tokens).prefix(state.count))
        #expect(state.count >= turn1Prompt.count)

        let second = first + [ChatMessage(role: .assistant, content: turn1.text), ChatMessage(role: .user, content: "What is my name?")]
        let turn2Prompt = loaded.tokens(forChat: second, template: template)
        var shared = 0
        while shared < min(kept.count, turn2Prompt.count - 1) && kept[shared] == turn2Prompt[shared] { shared += 1 }
        #expect(shared >= turn1Prompt.count, "the second prompt begins with the first turn")
        state.truncate(to: shared)

        // Two sequences at once: one reusing the prefix, one not (a batch may mix them).
        let outputs = try loaded.generator.generate(batch: [
            GenerationRequest(prompt: turn2Prompt, sampling: greedy, cached: state),
            GenerationRequest(prompt: turn2Prompt, sampling: greedy),
        ])
        let cached = try outputs[0].get(), full = try outputs[1].get()
        #expect(cached.reusedPromptTokens == shared && full.reusedPromptTokens == 0)
        #expect(cached.tokens == full.tokens && cached.text == full.text, "cached \(cached.text.debugDescription) vs full \(full.text.debugDescription)")

        // The first reply token's logits: prefix then rest, against one pass.
        let prefixState = loaded.model.makeState(capacity: turn2Prompt.count)
        _ = try loaded.model.forward(Array(turn2Prompt[..<shared]), state: prefixState, allLogits: false)
        let split = try loaded.model.forward(Array(turn2Prompt[shared...]), state: prefixState, allLogits: false).scalars
        let whole = try loaded.model.forward(turn2Prompt, state: loaded.model.makeState(capacity: turn2Prompt.count), allLogits: false).scalars
        let largest = zip(split, whole).map { abs($0 - $1) }.max() ?? 0
        print("prefix reuse: \(shared) of \(turn2Prompt.count) prompt tokens cached; largest logit difference \(largest)")
        #expect(largest < 1e-3)
    }
}
