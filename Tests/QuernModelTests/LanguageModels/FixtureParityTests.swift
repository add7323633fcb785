import Foundation
import QuernFormats
import QuernModels
import QuernTensor
import QuernTestSupport
import Testing

/// Parity with PyTorch on the tiny random checkpoints in ../shared/fixtures.
@Suite struct LanguageModelFixtureTests {
    static let tolerance: Float = 1e-4

    func llama(overrides: [String: Any] = [:]) throws -> LlamaModel {
        let folder = TestPaths.fixtures + "/llama-tiny"
        var config = try loadConfig(folder)
        for (key, value) in overrides { config[key] = value }
        return try LlamaModel(huggingFaceConfig: config, weights: binder(folder))
    }

    @Test func llamaLogitsAndGreedyMatchPyTorch() throws {
        let expected = try FixtureExpectations(TestPaths.fixtures + "/llama-tiny")
        let model = try llama()
        let ids = expected.ints("inputs", "input_ids")
        let logits = try model.forward(ids, state: model.makeState(capacity: 64), allLogits: true)
        #expect(maxDifference(logits.scalars, expected.data("outputs", "logits")) <= Self.tolerance)

        let greedy = try greedyWithCache(model, prompt: ids, steps: 8)
        #expect(greedy.tokens == expected.ints("outputs", "greedy", "new_tokens"))
        let stepLogits = expected.value("outputs", "greedy", "step_logits") as! [[NSNumber]]
        for (step, reference) in stepLogits.enumerated() {
            #expect(maxDifference(greedy.logits[step], reference.map { Float(truncating: $0) }) <= Self.tolerance, "step \(step)")
        }
    }

    @Test func llamaRopeThetaIsReadFromTheConfig() throws {
        let expected = try FixtureExpectations(TestPaths.fixtures + "/llama-tiny")
        let variant = expected.value("variants", "rope_theta_100000") as! [String: Any]
        let model = try llama(overrides: variant["config_overrides"] as! [String: Any])
        let ids = expected.ints("inputs", "input_ids")
        let logits = try model.forward(ids, state: model.makeState(capacity: 64), allLogits: true)
        #expect(maxDifference(logits.scalars, expected.data("variants", "rope_theta_100000", "logits")) <= Self.tolerance)
        #expect(try greedyWithCache(model, prompt: ids, steps: 8).tokens == expected.ints("variants", "rope_theta_100000", "greedy", "new_tokens"))
    }

    @Test(arguments: ["gpt2-tiny", "gpt2-tiny/legacy-layout"])
    func gpt2LogitsAndGreedyMatchPyTorch(folder: String) throws {
        let expected = try FixtureExpectations(TestPaths.fixtures + "/gpt2-tiny")
        let directory = TestPaths.fixtures + "/" + folder
        let model = try GPT2Model(huggingFaceConfig: loadConfig(directory), weights: binder(directory))
        let ids = expected.ints("inputs", "input_ids")
        let logits = try model.forward(ids, state: model.makeState(capacity: 64), allLogits: true)
        #expect(maxDifference(logits.scalars, expected.data("outputs", "logits")) <= Self.tolerance)
        let greedy = try greedyWithCache(model, prompt: ids, steps: 8)
        #expect(greedy.tokens == expected.ints("outputs", "greedy", "new_tokens"))
        let stepLogits = expected.value("outputs", "greedy", "step_logits") as! [[NSNumber]]
        for (step, reference) in stepLogits.enumerated() {
            #expect(maxDifference(greedy.logits[step], reference.map { Float(truncating: $0) }) <= Self.tolerance, "step \(step)")
        }
    }

    /// Feeding tokens one at a time through the cache equals one batched pass.
    @Test func cachedDecodingEqualsRecompute() throws {
        let model = try llama()
        let ids = [1, 42, 17, 200, 5, 99, 128, 63]
        let full = try model.forward(ids, state: model.makeState(capacity: 16), allLogits: true)
        let state = model.makeState(capacity: 16)
        var rows: [Float] = try model.forward(Array(ids.prefix(3)), state: state, allLogits: true).scalars
        for id in ids.dropFirst(3) { rows += try model.forward([id], state: state, allLogits: true).scalars }
        #expect(maxDifference(rows, full.scalars) <= 2e-6)
    }

    @Test func strictBindingNamesTheProblem() throws {
        let folder = TestPaths.fixtures + "/llama-tiny"
        var config = try loadConfig(folder)
        config["intermediate_size"] = 128
        #expect { try LlamaModel(huggingFaceConfig: config, weights: binder(folder)) } throws: { error in
            guard let format = error as? FormatError else { return false }
            return format.kind == .shapeMismatch && format.message.contains("mlp.gate_proj.weight")
        }
        config = try loadConfig(folder)
        config["num_hidden_layers"] = 1
        #expect { try LlamaModel(huggingFaceConfig: config, weights: binder(folder)) } throws: { error in
            (error as? FormatError)?.kind == .unusedTensor
        }
        let state = try llama().makeState(capacity: 4)
        #expect(throws: ModelError.self) { try self.llama().forward([1, 2, 3, 4, 5], state: state, allLogits: false) }
        #expect(throws: ModelError.self) { try self.llama().forward([256], state: self.llama().makeState(capacity: 4), allLogits: false) }
    }
}
