import Foundation
import QuernModels
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

    @Test func smolLM2GeneratesAndStops() throws {
        guard FileManager.default.fileExists(atPath: TestPaths.smolLM2) else {
            Issue.record("SmolLM2 missing at \(TestPaths.smolLM2); run scripts/fetch-models.sh")
            return
        }
        try BLAS.load()
        let loaded = try LanguageModelLoader.load(path: TestPaths.smolLM2)
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
}
