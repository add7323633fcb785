import Foundation
import QuernFormats
import QuernTensor

/// GPT-2: learned positions, pre-LayerNorm blocks, GELU (tanh form),
/// fused QKV projection, output tied to the token embeddings.
public final class GPT2Model: CausalLanguageModel, @unchecked Sendable {
    public struct Config: Sendable {
        public var vocabularySize: Int
        public var hiddenSize: Int
        public var intermediateSize: Int
        public var layers: Int
        public var heads: Int
        public var contextLength: Int
        public var layerNormEpsilon: Float
        var headDimension: Int { hiddenSize / heads }
    }

    struct Block {
        let norm1Weight, norm1Bias: Tensor
        let qkv: WeightMatrix
        let qkvBias: Tensor
        let projection: WeightMatrix
        let projectionBias: Tensor
        let norm2Weight, norm2Bias: Tensor
        let up: WeightMatrix
        let upBias: Tensor
        let down: WeightMatrix
        let downBias: Tensor
    }

    public let config: Config
    public let architecture = "gpt2"
    let tokenEmbedding: WeightMatrix
    let positionEmbedding: Tensor
    let blocks: [Block]
    let finalNormWeight, finalNormBias: Tensor
    let lmHead: WeightMatrix

    public var vocabularySize: Int { config.vocabularySize }
    public var contextLength: Int { config.contextLength }

    /// How each checkpoint layout names and orients the weights. Hugging Face
    /// GPT-2 uses Conv1D modules whose weights are stored [in, out]; GGUF
    /// stores [out, in] like every nn.Linear.
    enum Layout { case gguf, huggingFace(prefix: String) }

    init(config c: Config, weights: WeightBinder, layout: Layout) throws(FormatError) {
        try ModelDimensions.check(weights.file, [
            ("vocabulary size", c.vocabularySize, ModelDimensions.vocabulary), ("embedding length", c.hiddenSize, ModelDimensions.width),
            ("feed-forward length", c.intermediateSize, ModelDimensions.feedForward), ("block count", c.layers, ModelDimensions.layers),
            ("attention heads", c.heads, ModelDimensions.heads), ("context length", c.contextLength, ModelDimensions.contextLength),
        ])
        let d = c.hiddenSize
        func name(_ gguf: String, _ hf: String) -> String {
            switch layout {
            case .gguf: return gguf
            case .huggingFace(let prefix): return prefix + hf
            }
        }
        /// A projection as [out, in] rows, transposing Hugging Face's Conv1D.
        func linear(_ gguf: String, _ hf: String, out: Int, in inputs: Int) throws(FormatError) -> WeightMatrix {
            switch layout {
            case .gguf:
                return try weights.matrix(name(gguf, hf), shape: [out, inputs]).interleaved(releasingSource: true)
            case .huggingFace:
                let stored = try weights.tensor(name(gguf, hf), shape: [inputs, out])
                do { return try WeightMatrix(transposeLastTwo(stored)) } catch { throw FormatError(error, file: weights.file) }
            }
        }
        tokenEmbedding = try weights.matrix(name("token_embd.weight", "wte.weight"), shape: [c.vocabularySize, d])
        positionEmbedding = try weights.tensor(name("position_embd.weight", "wpe.weight"), shape: [c.contextLength, d])
        var blocks: [Block] = []
        for i in 0..<c.layers {
            let g = "blk.\(i).", h = "h.\(i)."
            blocks.append(Block(
                norm1Weight: try weights.tensor(name(g + "attn_norm.weight", h + "ln_1.weight"), shape: [d]),
                norm1Bias: try weights.tensor(name(g + "attn_norm.bias", h + "ln_1.bias"), shape: [d]),
                qkv: try linear(g + "attn_qkv.weight", h + "attn.c_attn.weight", out: 3 * d, in: d),
                qkvBias: try weights.tensor(name(g + "attn_qkv.bias", h + "attn.c_attn.bias"), shape: [3 * d]),
                projection: try linear(g + "attn_output.weight", h + "attn.c_proj.weight", out: d, in: d),
                projectionBias: try weights.tensor(name(g + "attn_output.bias", h + "attn.c_proj.bias"), shape: [d]),
                norm2Weight: try weights.tensor(name(g + "ffn_norm.weight", h + "ln_2.weight"), shape: [d]),
                norm2Bias: try weights.tensor(name(g + "ffn_norm.bias", h + "ln_2.bias"), shape: [d]),
                up: try linear(g + "ffn_up.weight", h + "mlp.c_fc.weight", out: c.intermediateSize, in: d),
                upBias: try weights.tensor(name(g + "ffn_up.bias", h + "mlp.c_fc.bias"), shape: [c.intermediateSize]),
                down: try linear(g + "ffn_down.weight", h + "mlp.c_proj.weight", out: d, in: c.intermediateSize),
                downBias: try weights.tensor(name(g + "ffn_down.bias", h + "mlp.c_proj.bias"), shape: [d])))
        }
        self.blocks = blocks
        finalNormWeight = try weights.tensor(name("output_norm.weight", "ln_f.weight"), shape: [d])
        finalNormBias = try weights.tensor(name("output_norm.bias", "ln_f.bias"), shape: [d])
        let output = name("output.weight", "lm_head.weight")
        lmHead = weights.contains(output) ? try weights.matrix(output, shape: [c.vocabularySize, d]).interleaved() : tokenEmbedding.interleaved()
        // Causal-mask buffers saved by older transformers versions are not weights.
        weights.ignore { $0.hasSuffix(".attn.bias") || $0.hasSuffix(".attn.masked_bias") }
        try weights.finish()
        config = c
    }

    public convenience init(gguf: GGUFFile) throws(FormatError) {
        let h = try GGUFHyperparameters(gguf: gguf, expected: "gpt2")
        let hidden = h.embeddingLength, heads = h.headCount
        guard heads > 0, hidden % heads == 0 else { throw FormatError(.invalidValue, file: h.path, "\(hidden) is not divisible by \(heads) heads") }
        guard let tokens = h.tokenCount else { throw FormatError(.invalidValue, file: h.path, "metadata tokenizer.ggml.tokens is missing or not an array") }
        guard let contextLength = h.contextLength else { throw h.missing("context_length") }
        let config = Config(
            vocabularySize: tokens, hiddenSize: hidden,
            intermediateSize: h.feedForwardLength ?? 4 * hidden,
            layers: h.blockCount, heads: heads,
            contextLength: contextLength,
            layerNormEpsilon: Float(h.layerNormEpsilon ?? 1e-5))
        try self.init(config: config, weights: WeightBinder(file: gguf.path, tensors: gguf.tensors), layout: .gguf)
    }

    /// A Hugging Face `GPT2LMHeadModel` folder: config.json + safetensors
    /// (transformers' defaults for the optional keys).
    public convenience init(huggingFaceConfig file: GPT2ConfigFile, weights: WeightBinder) throws(FormatError) {
        let hidden = file.nEmbd, heads = file.nHead
        guard heads > 0, hidden % heads == 0 else { throw FormatError(.invalidValue, file: weights.file, "config.json: \(hidden) is not divisible by \(heads) heads") }
        let config = Config(
            vocabularySize: file.vocabSize, hiddenSize: hidden, intermediateSize: file.nInner ?? 4 * hidden,
            layers: file.nLayer, heads: heads, contextLength: file.nPositions,
            layerNormEpsilon: Float(file.layerNormEpsilon ?? 1e-5))
        // Checkpoints saved by transformers prefix the keys with
        // `transformer.`; the hub's original gpt2 files do not.
        let prefix = weights.contains("transformer.wte.weight") ? "transformer." : ""
        try self.init(config: config, weights: weights, layout: .huggingFace(prefix: prefix))
    }

    public func makeState(capacity: Int) -> DecoderState {
        DecoderState(layers: config.layers, capacity: min(capacity, config.contextLength), heads: config.heads, headDimension: config.headDimension)
    }

    public func forward(_ tokens: [Int], state: DecoderState, allLogits: Bool) throws -> Tensor {
        try validate(tokens, state: state)
        let c = config, count = tokens.count, d = c.hiddenSize
        let start = state.count
        var hidden = try tokenEmbedding.gatherRows(tokens)
        hidden.addInPlace(positionEmbedding.rows(start..<start + count).copy())
        for (index, block) in blocks.enumerated() {
            let normed = layerNorm(hidden, gamma: block.norm1Weight, beta: block.norm1Bias, epsilon: c.layerNormEpsilon)
            let qkv = block.qkv.multiply(normed)
            qkv.addInPlace(block.qkvBias)
            // Columns [q | k | v], each [heads × headDimension].
            let parts = (0..<3).map { part in
                let piece = Tensor(zeros: [count, c.heads, c.headDimension])
                for t in 0..<count { piece.row(t).assign(qkv.row(t).reshaped([3, d]).row(part)) }
                return piece
            }
            let cache = state.caches[index]
            try cache.append(keys: parts[1], values: parts[2])
            let attended = scaledDotProductAttention(query: parts[0], key: cache.cachedKeys, value: cache.cachedValues, causal: true)
            let projected = block.projection.multiply(attended.reshaped([count, d]))
            projected.addInPlace(block.projectionBias)
            hidden.addInPlace(projected)
            let normed2 = layerNorm(hidden, gamma: block.norm2Weight, beta: block.norm2Bias, epsilon: c.layerNormEpsilon)
            let up = block.up.multiply(normed2)
            up.addInPlace(block.upBias)
            let down = block.down.multiply(geluTanh(up))
            down.addInPlace(block.downBias)
            hidden.addInPlace(down)
        }
        if !allLogits { hidden = hidden.rows(count - 1..<count) }
        return lmHead.multiply(layerNorm(hidden, gamma: finalNormWeight, beta: finalNormBias, epsilon: c.layerNormEpsilon))
    }
}
