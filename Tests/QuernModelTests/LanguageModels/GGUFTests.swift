import Foundation
import QuernFormats
import QuernModels
import QuernTensor
import QuernTestSupport
import Testing

@Suite struct GGUFTests {
    func temporaryPath(_ name: String) -> String {
        NSTemporaryDirectory() + "quern-gguf-\(getpid())-\(name)-\(UUID().uuidString).gguf"
    }

    /// llama-tiny (Hugging Face layout) rewritten the way llama.cpp's
    /// converter writes a GGUF: GGUF names, and q/k rows permuted into
    /// interleaved RoPE pairs. It must compute the same logits.
    func llamaTinyAsGGUF(tokenCount: Int = 256, extraMetadata: [(String, GGUFWriter.Value)] = []) throws -> String {
        let folder = TestPaths.fixtures + "/llama-tiny"
        let config = try loadConfig(folder)
        let weights = try binder(folder)
        let heads = config["num_attention_heads"] as! Int, kvHeads = config["num_key_value_heads"] as! Int
        let headDimension = config["head_dim"] as! Int
        var writer = GGUFWriter()
        writer.add("general.architecture", .string("llama"))
        writer.add("llama.block_count", .u32(2))
        writer.add("llama.embedding_length", .u32(64))
        writer.add("llama.feed_forward_length", .u32(160))
        writer.add("llama.attention.head_count", .u32(UInt32(heads)))
        writer.add("llama.attention.head_count_kv", .u32(UInt32(kvHeads)))
        writer.add("llama.rope.freq_base", .f32(10_000))
        writer.add("llama.attention.layer_norm_rms_epsilon", .f32(1e-5))
        writer.add("llama.context_length", .u32(64))
        writer.add("tokenizer.ggml.model", .string("gpt2"))
        writer.add("tokenizer.ggml.pre", .string("gpt2"))
        writer.add("tokenizer.ggml.tokens", .strings((0..<tokenCount).map { "t\($0)" }))
        writer.add("tokenizer.ggml.token_type", .i32s([Int32](repeating: 1, count: tokenCount)))
        writer.add("tokenizer.ggml.merges", .strings(["t 1"]))
        for (key, value) in extraMetadata { writer.add(key, value) }
        func copy(_ hf: String, _ gguf: String, permuteHeads: Int? = nil) throws {
            let tensor = try weights.tensor(hf)
            var values = tensor.scalars
            if let permuteHeads {
                // Row (head, i) of the rotate-half layout goes to (head, 2i) and
                // row (head, half + i) to (head, 2i + 1).
                let columns = tensor.shape[1], half = headDimension / 2
                let source = values
                for head in 0..<permuteHeads {
                    for i in 0..<half {
                        for c in 0..<columns {
                            values[((head * headDimension) + 2 * i) * columns + c] = source[((head * headDimension) + i) * columns + c]
                            values[((head * headDimension) + 2 * i + 1) * columns + c] = source[((head * headDimension) + half + i) * columns + c]
                        }
                    }
                }
            }
            writer.addFloat32(gguf, shape: tensor.shape, values: values)
        }
        try copy("model.embed_tokens.weight", "token_embd.weight")
        try copy("model.norm.weight", "output_norm.weight")
        for i in 0..<2 {
            let h = "model.layers.\(i).", g = "blk.\(i)."
            try copy(h + "input_layernorm.weight", g + "attn_norm.weight")
            try copy(h + "self_attn.q_proj.weight", g + "attn_q.weight", permuteHeads: heads)
            try copy(h + "self_attn.k_proj.weight", g + "attn_k.weight", permuteHeads: kvHeads)
            try copy(h + "self_attn.v_proj.weight", g + "attn_v.weight")
            try copy(h + "self_attn.o_proj.weight", g + "attn_output.weight")
            try copy(h + "post_attention_layernorm.weight", g + "ffn_norm.weight")
            try copy(h + "mlp.gate_proj.weight", g + "ffn_gate.weight")
            try copy(h + "mlp.up_proj.weight", g + "ffn_up.weight")
            try copy(h + "mlp.down_proj.weight", g + "ffn_down.weight")
        }
        let path = temporaryPath("llama-tiny")
        try writer.write(to: path)
        return path
    }

    @Test func ggufConversionOfTheFixtureComputesTheSameLogits() throws {
        let path = try llamaTinyAsGGUF()
        defer { unlink(path) }
        let gguf = try GGUFFile(path: path)
        #expect(gguf.version == 3 && gguf.tensors.count == 2 + 2 * 9)
        #expect(try gguf.integer("llama.block_count") == 2)
        let model = try LlamaModel(gguf: gguf)
        let expected = try FixtureExpectations(TestPaths.fixtures + "/llama-tiny")
        let ids = expected.ints("inputs", "input_ids")
        let logits = try model.forward(ids, state: model.makeState(capacity: 64), allLogits: true)
        #expect(maxDifference(logits.scalars, expected.data("outputs", "logits")) <= 1e-4)
        // The embedding table also serves as the tied output projection.
        #expect(try greedyWithCache(model, prompt: ids, steps: 8).tokens == expected.ints("outputs", "greedy", "new_tokens"))
    }

    /// gpt2-tiny as llama.cpp's converter writes it: GGUF names and every
    /// Conv1D weight transposed to [out, in].
    @Test func gpt2FixtureAsGGUFComputesTheSameLogits() throws {
        let folder = TestPaths.fixtures + "/gpt2-tiny"
        let weights = try binder(folder)
        var writer = GGUFWriter()
        writer.add("general.architecture", .string("gpt2"))
        writer.add("gpt2.block_count", .u32(2))
        writer.add("gpt2.embedding_length", .u32(64))
        writer.add("gpt2.feed_forward_length", .u32(256))
        writer.add("gpt2.attention.head_count", .u32(4))
        writer.add("gpt2.attention.layer_norm_epsilon", .f32(1e-5))
        writer.add("gpt2.context_length", .u32(64))
        writer.add("tokenizer.ggml.model", .string("gpt2"))
        writer.add("tokenizer.ggml.tokens", .strings((0..<256).map { "t\($0)" }))
        writer.add("tokenizer.ggml.merges", .strings(["t 1"]))
        func copy(_ hf: String, _ gguf: String, transpose: Bool = false) throws {
            var tensor = try weights.tensor("transformer." + hf)
            if transpose { tensor = transposeLastTwo(tensor) }
            writer.addFloat32(gguf, shape: tensor.shape, values: tensor.scalars)
        }
        try copy("wte.weight", "token_embd.weight")
        try copy("wpe.weight", "position_embd.weight")
        try copy("ln_f.weight", "output_norm.weight")
        try copy("ln_f.bias", "output_norm.bias")
        for i in 0..<2 {
            let h = "h.\(i).", g = "blk.\(i)."
            for (hf, gguf) in [("ln_1", "attn_norm"), ("ln_2", "ffn_norm")] {
                try copy(h + hf + ".weight", g + gguf + ".weight")
                try copy(h + hf + ".bias", g + gguf + ".bias")
            }
            for (hf, gguf) in [("attn.c_attn", "attn_qkv"), ("attn.c_proj", "attn_output"), ("mlp.c_fc", "ffn_up"), ("mlp.c_proj", "ffn_down")] {
                try copy(h + hf + ".weight", g + gguf + ".weight", transpose: true)
                try copy(h + hf + ".bias", g + gguf + ".bias")
            }
        }
        let path = temporaryPath("gpt2-tiny")
        try writer.write(to: path)
        defer { unlink(path) }
        let loaded = try LanguageModelLoader.load(path: path)
        #expect(loaded.model.architecture == "gpt2")
        let expected = try FixtureExpectations(folder)
        let ids = expected.ints("inputs", "input_ids")
        let logits = try loaded.model.forward(ids, state: loaded.model.makeState(capacity: 64), allLogits: true)
        #expect(maxDifference(logits.scalars, expected.data("outputs", "logits")) <= 1e-4)
        #expect(try greedyWithCache(loaded.model, prompt: ids, steps: 8).tokens == expected.ints("outputs", "greedy", "new_tokens"))
    }

    @Test func unknownArchitecturesAndMissingTensorsAreNamed() throws {
        var writer = GGUFWriter()
        writer.add("general.architecture", .string("mamba"))
        let path = temporaryPath("arch")
        try writer.write(to: path)
        defer { unlink(path) }
        #expect { try LanguageModelLoader.load(path: path) } throws: { error in
            (error as? ModelError)?.kind == .unsupportedArchitecture && "\(error)".contains("mamba")
        }
        let tiny = try llamaTinyAsGGUF()
        defer { unlink(tiny) }
        let gguf = try GGUFFile(path: tiny)
        let weights = WeightBinder(file: tiny, tensors: gguf.tensors.filter { $0.name != "blk.1.ffn_up.weight" })
        #expect(throws: FormatError.self) { try weights.matrix("blk.1.ffn_up.weight") }
    }
}
