import Foundation
import QuernFormats
import QuernTensor

/// The Llama architecture (Llama 2/3 style, SmolLM2): RMSNorm, rotary
/// positions, grouped-query attention, SwiGLU feed-forward, optionally tied
/// input/output embeddings.
public final class LlamaModel: CausalLanguageModel, @unchecked Sendable {
    public struct Config: Sendable {
        public var vocabularySize: Int
        public var hiddenSize: Int
        public var intermediateSize: Int
        public var layers: Int
        public var heads: Int
        public var kvHeads: Int
        public var headDimension: Int
        public var ropeTheta: Double
        public var ropeDimensions: Int
        public var rmsEpsilon: Float
        public var contextLength: Int
        /// GGUF files hold q/k rows permuted for interleaved pairs; Hugging
        /// Face checkpoints use rotate-half pairs.
        public var ropePairing: RotaryEmbedding.Pairing
    }

    struct Block {
        let attentionNorm: Tensor
        let query, key, value, output: WeightMatrix
        let feedForwardNorm: Tensor
        let gate, up, down: WeightMatrix
    }

    public let config: Config
    public let architecture = "llama"
    let embedding: WeightMatrix
    let blocks: [Block]
    let finalNorm: Tensor
    let lmHead: WeightMatrix
    let rope: RotaryEmbedding

    public var vocabularySize: Int { config.vocabularySize }
    public var contextLength: Int { config.contextLength }

    /// Checkpoint tensor names for one layout.
    struct Names {
        let embedding, finalNorm, output: String
        let block: (Int) -> (attentionNorm: String, query: String, key: String, value: String, output: String,
                             feedForwardNorm: String, gate: String, up: String, down: String)

        static let gguf = Names(embedding: "token_embd.weight", finalNorm: "output_norm.weight", output: "output.weight") { i in
            ("blk.\(i).attn_norm.weight", "blk.\(i).attn_q.weight", "blk.\(i).attn_k.weight", "blk.\(i).attn_v.weight",
             "blk.\(i).attn_output.weight", "blk.\(i).ffn_norm.weight", "blk.\(i).ffn_gate.weight", "blk.\(i).ffn_up.weight",
             "blk.\(i).ffn_down.weight")
        }

        static let huggingFace = Names(embedding: "model.embed_tokens.weight", finalNorm: "model.norm.weight", output: "lm_head.weight") { i in
            let p = "model.layers.\(i)."
            return (p + "input_layernorm.weight", p + "self_attn.q_proj.weight", p + "self_attn.k_proj.weight",
                    p + "self_attn.v_proj.weight", p + "self_attn.o_proj.weight", p + "post_attention_layernorm.weight",
                    p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight", p + "mlp.down_proj.weight")
        }
    }

    init(config: Config, weights: WeightBinder, names: Names) throws(FormatError) {
        let c = config
        try ModelDimensions.check(weights.file, [
            ("vocabulary size", c.vocabularySize, ModelDimensions.vocabulary), ("embedding length", c.hiddenSize, ModelDimensions.width),
            ("feed-forward length", c.intermediateSize, ModelDimensions.feedForward), ("block count", c.layers, ModelDimensions.layers),
            ("attention heads", c.heads, ModelDimensions.heads), ("key/value heads", c.kvHeads, ModelDimensions.heads),
            ("head dimension", c.headDimension, ModelDimensions.headDimension), ("context length", c.contextLength, ModelDimensions.contextLength),
            ("rope dimensions", c.ropeDimensions, 1...max(1, c.headDimension)),
        ])
        let qWidth = try ModelDimensions.product(c.heads, c.headDimension, "query width", file: weights.file)
        let kvWidth = try ModelDimensions.product(c.kvHeads, c.headDimension, "key/value width", file: weights.file)
        // Quantised matrices are repacked for the vector kernels (and their
        // mapped pages released); float ones are used in place.
        func matrix(_ name: String, _ shape: [Int]) throws(FormatError) -> WeightMatrix {
            try weights.matrix(name, shape: shape).interleaved(releasingSource: true)
        }
        embedding = try weights.matrix(names.embedding, shape: [c.vocabularySize, c.hiddenSize])
        var blocks: [Block] = []
        for i in 0..<c.layers {
            let n = names.block(i)
            blocks.append(Block(
                attentionNorm: try weights.tensor(n.attentionNorm, shape: [c.hiddenSize]),
                query: try matrix(n.query, [qWidth, c.hiddenSize]),
                key: try matrix(n.key, [kvWidth, c.hiddenSize]),
                value: try matrix(n.value, [kvWidth, c.hiddenSize]),
                output: try matrix(n.output, [c.hiddenSize, qWidth]),
                feedForwardNorm: try weights.tensor(n.feedForwardNorm, shape: [c.hiddenSize]),
                gate: try matrix(n.gate, [c.intermediateSize, c.hiddenSize]),
                up: try matrix(n.up, [c.intermediateSize, c.hiddenSize]),
                down: try matrix(n.down, [c.hiddenSize, c.intermediateSize])))
        }
        self.blocks = blocks
        finalNorm = try weights.tensor(names.finalNorm, shape: [c.hiddenSize])
        // Tied embeddings: the output projection reads the embedding table
        // (a repacked copy for the vector kernels). Lookups use the original,
        // whose pages are dropped after packing and come back only for the
        // rows actually looked up.
        lmHead = weights.contains(names.output)
            ? try matrix(names.output, [c.vocabularySize, c.hiddenSize])
            : embedding.interleaved(releasingSource: true)
        weights.ignore { $0.hasSuffix("rotary_emb.inv_freq") }
        try weights.finish()
        self.config = config
        rope = RotaryEmbedding(dimensions: c.ropeDimensions, base: c.ropeTheta, pairing: c.ropePairing)
    }

    /// SmolLM2 and other llama.cpp conversions.
    public convenience init(gguf: GGUFFile) throws(FormatError) {
        let h = try GGUFHyperparameters(gguf: gguf, expected: "llama")
        let heads = h.headCount, hidden = h.embeddingLength
        guard heads > 0, hidden % heads == 0 else {
            throw FormatError(.invalidValue, file: h.path, "embedding length \(hidden) is not divisible by \(heads) heads")
        }
        let kvHeads = h.headCountKV ?? heads
        guard kvHeads > 0, heads % kvHeads == 0 else {
            throw FormatError(.invalidValue, file: h.path, "\(heads) heads cannot share \(kvHeads) key/value heads")
        }
        guard let feedForward = h.feedForwardLength else { throw h.missing("feed_forward_length") }
        guard let tokens = h.vocabularySize ?? h.tokenCount else {
            throw FormatError(.invalidValue, file: h.path, "metadata llama.vocab_size and tokenizer.ggml.tokens are both missing")
        }
        let headDimension = h.keyLength ?? hidden / heads
        let config = Config(
            vocabularySize: tokens,
            hiddenSize: hidden,
            intermediateSize: feedForward,
            layers: h.blockCount,
            heads: heads, kvHeads: kvHeads, headDimension: headDimension,
            ropeTheta: h.ropeFrequencyBase ?? 10_000,
            ropeDimensions: h.ropeDimensionCount ?? headDimension,
            rmsEpsilon: Float(h.layerNormRMSEpsilon ?? 1e-5),
            contextLength: h.contextLength ?? 2048,
            ropePairing: .interleaved)
        guard config.ropeDimensions > 0, config.ropeDimensions % 2 == 0, config.ropeDimensions <= headDimension,
              config.layers > 0, config.layers <= 1024 else {
            throw FormatError(.invalidValue, file: h.path, "implausible configuration \(config)")
        }
        try self.init(config: config, weights: WeightBinder(file: gguf.path, tensors: gguf.tensors), names: .gguf)
    }

    /// A Hugging Face `LlamaForCausalLM` folder: config.json + safetensors
    /// (transformers' defaults for the optional keys).
    public convenience init(huggingFaceConfig file: LlamaConfigFile, weights: WeightBinder) throws(FormatError) {
        let heads = file.numAttentionHeads, hidden = file.hiddenSize
        let headDimension = file.headDim ?? hidden / max(heads, 1)
        let config = Config(
            vocabularySize: file.vocabSize, hiddenSize: hidden, intermediateSize: file.intermediateSize,
            layers: file.numHiddenLayers, heads: heads, kvHeads: file.numKeyValueHeads ?? heads,
            headDimension: headDimension, ropeTheta: file.ropeParameters?.ropeTheta ?? file.ropeTheta ?? 10_000, ropeDimensions: headDimension,
            rmsEpsilon: Float(file.rmsNormEps ?? 1e-6),
            contextLength: file.maxPositionEmbeddings ?? 2048, ropePairing: .halves)
        guard heads > 0, config.kvHeads > 0, heads % config.kvHeads == 0, headDimension % 2 == 0 else {
            throw FormatError(.invalidValue, file: weights.file, "config.json: inconsistent attention heads")
        }
        try self.init(config: config, weights: weights, names: .huggingFace)
    }

    /// Longest continuation of a kept state run through the vector kernels
    /// (see `forward`). On the 2-core test machine, after 600 cached tokens:
    /// 8 new tokens 0.06 s row-wise against 0.41 s through the matrix path,
    /// 64 tokens 0.32 s against 0.69 s, 128 tokens 0.72 s against 1.34 s,
    /// 256 tokens 1.84 s against 1.36 s.
    public static let rowWiseContinuationLimit = 128

    public func makeState(capacity: Int) -> DecoderState {
        DecoderState(layers: config.layers, capacity: min(capacity, config.contextLength), heads: config.kvHeads, headDimension: config.headDimension)
    }

    public func forward(_ tokens: [Int], state: DecoderState, allLogits: Bool) throws -> Tensor {
        try validate(tokens, state: state)
        let c = config, count = tokens.count
        let start = state.count
        // A few tokens continuing a kept state (a conversation's next turn
        // after its cached prefix) go through the vector kernels, which
        // read the quantised weights once for all rows; the matrix path
        // first dequantises every weight (its own pass over them), which only
        // pays off for long prompts (`rowWiseContinuationLimit`).
        // Fresh prompts keep the matrix path whatever their length.
        let rowWise = start > 0 && count > 1 && count <= Self.rowWiseContinuationLimit
        func multiply(_ weights: WeightMatrix, _ x: Tensor) -> Tensor {
            rowWise && weights.layout == .interleaved16 ? weights.multiply(eachRowOf: x) : weights.multiply(x)
        }
        var hidden = try embedding.gatherRows(tokens)
        for (index, block) in blocks.enumerated() {
            let normed = rmsNorm(hidden, gamma: block.attentionNorm, epsilon: c.rmsEpsilon)
            let query = multiply(block.query, normed).reshaped([count, c.heads, c.headDimension])
            let key = multiply(block.key, normed).reshaped([count, c.kvHeads, c.headDimension])
            let value = multiply(block.value, normed).reshaped([count, c.kvHeads, c.headDimension])
            rope.apply(query, startPosition: start)
            rope.apply(key, startPosition: start)
            let cache = state.caches[index]
            try cache.append(keys: key, values: value)
            let attended = scaledDotProductAttention(query: query, key: cache.cachedKeys, value: cache.cachedValues, causal: true)
            hidden.addInPlace(multiply(block.output, attended.reshaped([count, c.heads * c.headDimension])))
            let normed2 = rmsNorm(hidden, gamma: block.feedForwardNorm, epsilon: c.rmsEpsilon)
            let activated = siluMultiply(multiply(block.gate, normed2), multiply(block.up, normed2))
            hidden.addInPlace(multiply(block.down, activated))
        }
        if !allLogits { hidden = hidden.rows(count - 1..<count) }
        return lmHead.multiply(rmsNorm(hidden, gamma: finalNorm, epsilon: c.rmsEpsilon))
    }

    /// The decoding step of several sequences: the linear layers make one
    /// pass over the weights for all of them (`multiply(eachRowOf:)`, which
    /// gives each row the single-sequence arithmetic), attention runs per
    /// sequence on its own cache at its own position.
    public func forwardEach(_ tokens: [Int], states: [DecoderState]) throws -> Tensor {
        precondition(tokens.count == states.count, "forwardEach: \(tokens.count) tokens for \(states.count) sequences")
        if tokens.count == 1 { return try forward(tokens, state: states[0], allLogits: false) }
        for (token, state) in zip(tokens, states) { try validate([token], state: state) }
        guard Set(states.map(ObjectIdentifier.init)).count == states.count else {
            throw ModelError(.invalidInput, "forwardEach: a sequence's state appears twice in one step")
        }
        let c = config, count = tokens.count
        let starts = states.map(\.count)
        var hidden = try embedding.gatherRows(tokens)
        let attended = Tensor(zeros: [count, c.heads, c.headDimension])
        for (index, block) in blocks.enumerated() {
            let normed = rmsNorm(hidden, gamma: block.attentionNorm, epsilon: c.rmsEpsilon)
            let query = block.query.multiply(eachRowOf: normed).reshaped([count, c.heads, c.headDimension])
            let key = block.key.multiply(eachRowOf: normed).reshaped([count, c.kvHeads, c.headDimension])
            let value = block.value.multiply(eachRowOf: normed).reshaped([count, c.kvHeads, c.headDimension])
            for i in 0..<count {
                let q = query.rows(i..<i + 1), k = key.rows(i..<i + 1)
                rope.apply(q, startPosition: starts[i])
                rope.apply(k, startPosition: starts[i])
                let cache = states[i].caches[index]
                try cache.append(keys: k, values: value.rows(i..<i + 1))
                attended.rows(i..<i + 1).assign(scaledDotProductAttention(query: q, key: cache.cachedKeys, value: cache.cachedValues, causal: true))
            }
            hidden.addInPlace(block.output.multiply(eachRowOf: attended.reshaped([count, c.heads * c.headDimension])))
            let normed2 = rmsNorm(hidden, gamma: block.feedForwardNorm, epsilon: c.rmsEpsilon)
            let activated = siluMultiply(block.gate.multiply(eachRowOf: normed2), block.up.multiply(eachRowOf: normed2))
            hidden.addInPlace(block.down.multiply(eachRowOf: activated))
        }
        return lmHead.multiply(eachRowOf: rmsNorm(hidden, gamma: finalNorm, epsilon: c.rmsEpsilon))
    }
}
