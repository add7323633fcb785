import Foundation
@testable import QuernModels
import QuernTensor
import QuernTestSupport
import Testing

@Suite struct GenerationTests {
    @Test func chatTemplatesAreRecognisedByTheirMarkers() {
        let smol = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are X<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
        let chatml = ChatTemplate.detect(jinja: smol)
        #expect(chatml?.family == .chatml && chatml?.defaultSystemPrompt == "You are X")
        let rendered = chatml!.render([ChatMessage(role: "user", content: "Hi")])
        #expect(rendered == "<|im_start|>system\nYou are X<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
        let withSystem = chatml!.render([ChatMessage(role: "system", content: "S"), ChatMessage(role: "user", content: "Hi")], addGenerationPrompt: false)
        #expect(withSystem == "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n")
        // A template whose system text is an expression has no default.
        #expect(ChatTemplate.detect(jinja: "{{ '<|im_start|>system\\n' + system + '<|im_end|>' }}")?.defaultSystemPrompt == nil)
        let llama3 = ChatTemplate.detect(jinja: "{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' }}", beginText: "<|begin_of_text|>")
        #expect(llama3?.render([ChatMessage(role: "user", content: " Hi ")]) ==
                "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n")
        #expect(ChatTemplate.detect(jinja: "{{ '<|user|>\n' }}{{ '<|assistant|>\n' }}")?.family == .zephyr)
        #expect(ChatTemplate.detect(jinja: "{{ '[INST] ' + content + ' [/INST]' }}") == nil)
    }

    @Test func samplingIsSeededAndGreedyIsArgmax() throws {
        let logits = try Tensor(shape: [6], values: [1.0, 3.0, 2.9, 0.5, -1, 2.95])
        var greedy = Sampler(.greedy)
        #expect(greedy.next(logits: logits, history: []) == 1)
        var parameters = SamplingParameters()
        parameters.seed = 42
        parameters.temperature = 1.5
        parameters.minP = 0
        var first = Sampler(parameters), second = Sampler(parameters)
        let a = (0..<50).map { _ in first.next(logits: logits, history: []) }
        let b = (0..<50).map { _ in second.next(logits: logits, history: []) }
        #expect(a == b && Set(a).count > 1)
        parameters.topK = 1
        var topOne = Sampler(parameters)
        #expect((0..<20).allSatisfy { _ in topOne.next(logits: logits, history: []) == 1 })
        // top-p keeps the smallest set reaching p; min-p cuts relative to the best.
        parameters.topK = 0
        parameters.topP = 0.01
        var nucleus = Sampler(parameters)
        #expect((0..<20).allSatisfy { _ in nucleus.next(logits: logits, history: []) == 1 })
        parameters.topP = 1
        parameters.minP = 0.5
        var minimum = Sampler(parameters)
        #expect(Set((0..<200).map { _ in minimum.next(logits: logits, history: []) }).isSubset(of: [1, 2, 5]))
        // The repetition penalty divides a positive logit: token 1 loses to 5.
        var penalised = SamplingParameters.greedy
        penalised.repetitionPenalty = 1.1
        var sampler = Sampler(penalised)
        #expect(sampler.next(logits: logits, history: [1]) == 5)
    }

    /// The partial selection gives the candidates a full sort would, in order.
    @Test func topCandidatesAreThoseOfAFullSort() {
        var generator = SeededGenerator(seed: 3)
        for size in [1, 7, 300, 5000] {
            // Coarse values, so ties occur: equal logits rank by id.
            let values = (0..<size).map { _ in Float(Int(generator.next() % 200)) / 8 - 12 }
            let sorted = values.indices.sorted { values[$0] > values[$1] || (values[$0] == values[$1] && $0 < $1) }
            for k in [1, 5, 40, size] {
                #expect(Sampler.largest(values, count: k).map(\.id) == Array(sorted.prefix(k)), "size \(size) k \(k)")
            }
            // Without top-k, the prefix reaches the top-p mass or the min-p threshold.
            let (candidates, probabilities) = Sampler.nucleusCandidates(values, topP: 0.9, minP: 0)
            #expect(candidates.map(\.id) == Array(sorted.prefix(candidates.count)))
            #expect(probabilities.reduce(0, +) >= 0.9 - 1e-4 || candidates.count == size)
        }
    }

    /// The real SmolLM2, or nil (with an issue recorded) when it is not fetched.
    static func smolLM2() throws -> LoadedLanguageModel? {
        guard FileManager.default.fileExists(atPath: TestPaths.smolLM2) else {
            Issue.record("SmolLM2 missing at \(TestPaths.smolLM2); run scripts/fetch-models.sh")
            return nil
        }
        try BLAS.load()
        return try LanguageModelLoader.load(path: TestPaths.smolLM2)
    }

    @Test func smolLM2GeneratesAndStops() throws {
        guard let loaded = try Self.smolLM2() else { return }
        let prompt = loaded.tokens(for: loaded.chatTemplate!.render([ChatMessage(role: "user", content: "What is the capital of France?")]))
        func greedy(_ maxTokens: Int, stop: [String] = []) -> SamplingParameters {
            var sampling = SamplingParameters.greedy
            sampling.maxTokens = maxTokens
            sampling.stop = stop
            return sampling
        }
        let reply = try loaded.generator.generate(prompt: prompt, sampling: greedy(40))
        #expect(reply.text == "The capital of France is Paris." && reply.finishReason == .stop)
        let cut = try loaded.generator.generate(prompt: prompt, sampling: greedy(40, stop: [" of "]))
        #expect(cut.text == "The capital" && cut.finishReason == .stop)
        let short = try loaded.generator.generate(prompt: prompt, sampling: greedy(3))
        #expect(short.tokens.count == 3 && short.finishReason == .length)
        var seeded = SamplingParameters()
        seeded.seed = 7
        seeded.maxTokens = 24
        let one = try loaded.generator.generate(prompt: prompt, sampling: seeded)
        let two = try loaded.generator.generate(prompt: prompt, sampling: seeded)
        #expect(one.text == two.text)
    }

    /// Requests decoded together give exactly the text each gives alone:
    /// greedy and seeded sampling, a stop string, different prompt lengths
    /// and token limits (sequences leave the batch at different steps).
    @Test func aBatchDecodesEachRequestAsItWouldAlone() throws {
        guard let loaded = try Self.smolLM2() else { return }
        let questions = ["What is the capital of France?", "Write a haiku about the sea.", "Hi", "List three colours.",
                         "Explain in one sentence why the sky is blue, please, for a child of five.", "Count to ten."]
        var requests: [GenerationRequest] = []
        for (i, question) in questions.enumerated() {
            var sampling = i % 2 == 0 ? SamplingParameters.greedy : SamplingParameters()
            sampling.seed = UInt64(i)
            sampling.maxTokens = [40, 24, 3, 32, 48, 16][i]
            if i == 3 { sampling.stop = ["\n"] }
            requests.append(GenerationRequest(prompt: loaded.tokens(for: loaded.chatTemplate!.render([ChatMessage(role: "user", content: question)])),
                                              sampling: sampling))
        }
        let together = try loaded.generator.generate(batch: requests)
        for (request, outcome) in zip(requests, together) {
            let alone = try loaded.generator.generate(prompt: request.prompt, sampling: request.sampling)
            let batched = try outcome.get()
            #expect(batched.tokens == alone.tokens && batched.text == alone.text && batched.finishReason == alone.finishReason,
                    "batched \(batched.text.debugDescription) vs alone \(alone.text.debugDescription)")
        }
    }
}
