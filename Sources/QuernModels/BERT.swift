import Foundation
import QuernFormats
import QuernTensor

/// BERT's encoder (`BertModel`): word + position + token-type embeddings and
/// a LayerNorm, then post-LayerNorm blocks — self-attention, residual,
/// LayerNorm; exact (erf) GELU feed-forward, residual, LayerNorm.
///
/// Batches are rectangular: right-padded sequences with an attention mask.
/// Padded keys get float32's lowest value added to their scores, as
/// PyTorch does, so a padded batch gives each sequence the values it gets
/// alone; padded query rows are computed too (they are garbage, as in
/// PyTorch, and poolers ignore them).
public final class BERTModel: @unchecked Sendable {
    public struct Config: Sendable, Equatable {
        public var vocabularySize: Int
        public var hiddenSize: Int
        public var layers: Int
        public var heads: Int
        public var intermediateSize: Int
        public var maxPositions: Int
        public var typeVocabularySize: Int
        public var layerNormEpsilon: Float

        public var headDimension: Int { hiddenSize / heads }

        /// A Hugging Face `config.json`, with transformers' defaults for the
        /// optional keys. Only what this file implements is accepted:
        /// absolute positions and erf GELU.
        public init(huggingFace json: BERTConfigFile, file: String) throws(FormatError) {
            try SupportedChoice.modelType(json.modelType, "bert", file: file)
            try SupportedChoice.gelu("hidden_act", json.hiddenAct, file: file)
            try SupportedChoice.require("position_embedding_type", json.positionEmbeddingType ?? "absolute", is: "absolute", file: file)
            vocabularySize = json.vocabSize
            hiddenSize = json.hiddenSize
            layers = json.numHiddenLayers
            heads = json.numAttentionHeads
            intermediateSize = json.intermediateSize
            maxPositions = json.maxPositionEmbeddings
            typeVocabularySize = json.typeVocabSize ?? 2
            let epsilon = json.layerNormEps ?? 1e-12
            guard epsilon > 0 else {
                throw FormatError(.invalidValue, file: file, "layer_norm_eps must be a positive number")
            }
            layerNormEpsilon = Float(epsilon)
            try ModelDimensions.check(file, [
                ("vocab_size", vocabularySize, ModelDimensions.vocabulary), ("hidden_size", hiddenSize, ModelDimensions.width),
                ("num_hidden_layers", layers, ModelDimensions.layers), ("num_attention_heads", heads, ModelDimensions.heads),
                ("intermediate_size", intermediateSize, ModelDimensions.feedForward),
                ("max_position_embeddings", maxPositions, ModelDimensions.contextLength), ("type_vocab_size", typeVocabularySize, ModelDimensions.small),
            ])
            guard hiddenSize % heads == 0 else {
                throw FormatError(.invalidValue, file: file, "hidden_size \(hiddenSize) is not divisible by \(heads) attention heads")
            }
        }

        public static func load(path: String) throws(FormatError) -> Config {
            try Config(huggingFace: JSONFile.decode(BERTConfigFile.self, at: path), file: path)
        }
    }

    struct Norm {
        let gamma, beta: Tensor
    }

    struct Linear {
        /// float32 weights [out, in] (empty when `reduced` runs the layer).
        let weight, bias: Tensor
        /// The layer in bfloat16, when the model was loaded in it.
        let reduced: BFloat16Linear?

        init(weight: Tensor, bias: Tensor, precision: Precision) {
            if precision == .bfloat16 && BFloat16Linear.supports(inputFeatures: weight.shape[1]) {
                reduced = BFloat16Linear(weight: weight, bias: bias)
                self.weight = Tensor(zeros: [0, weight.shape[1]])
            } else {
                reduced = nil
                self.weight = weight
            }
            self.bias = bias
        }

        /// A short sentence's few rows skip sgemm's packing of the weights.
        func callAsFunction(_ x: Tensor) -> Tensor {
            if let reduced { return reduced(x) }
            return x.leadingCount <= fewRowsLinearLimit ? fewRowsLinear(x, weight: weight, bias: bias) : linear(x, weight: weight, bias: bias)
        }

        var residentBytes: Int { reduced?.residentBytes ?? (weight.count + bias.count) * 4 }
    }

    struct Block {
        /// query, key and value stacked into one [3·hidden, hidden] projection.
        let queryKeyValue: Linear
        let attentionOutput: Linear
        let attentionNorm: Norm
        let intermediate, output: Linear
        let outputNorm: Norm
    }

    public let config: Config
    let wordEmbeddings: WeightMatrix
    let positionEmbeddings, tokenTypeEmbeddings: Tensor
    let embeddingNorm: Norm
    let blocks: [Block]
    /// `pooler.dense` (tanh(W · h[CLS] + b)), when the checkpoint has it.
    let pooler: Linear?

    /// Binds a `BertModel` checkpoint. Names may carry the `bert.` prefix of
    /// `BertForPreTraining`-style files (whose `cls.*` heads are ignored), and
    /// LayerNorms may use the old `gamma`/`beta` names.
    /// What the linear layers' products run in.
    public let precision: Precision

    /// Bytes of the encoder's linear layers (the bulk of its weights; the
    /// embedding tables stay as the checkpoint stores them).
    public var linearWeightBytes: Int {
        blocks.reduce(pooler?.residentBytes ?? 0) {
            $0 + $1.queryKeyValue.residentBytes + $1.attentionOutput.residentBytes + $1.intermediate.residentBytes + $1.output.residentBytes
        }
    }

    /// `precision` applies to the linear layers (attention's products,
    /// normalisation and GELU stay float32).
    public init(config: Config, weights: WeightBinder, precision: Precision = .float32) throws(FormatError) {
        self.precision = precision
        let c = config
        let prefix = weights.contains("bert.embeddings.word_embeddings.weight") ? "bert." : ""
        func tensor(_ name: String, _ shape: [Int]) throws(FormatError) -> Tensor { try weights.tensor(prefix + name, shape: shape) }
        func linear(_ name: String, out: Int, in inputs: Int, precision: Precision = precision) throws(FormatError) -> Linear {
            Linear(weight: try tensor(name + ".weight", [out, inputs]), bias: try tensor(name + ".bias", [out]), precision: precision)
        }
        func norm(_ name: String) throws(FormatError) -> Norm {
            let old = weights.contains(prefix + name + ".gamma")
            return Norm(gamma: try tensor(name + (old ? ".gamma" : ".weight"), [c.hiddenSize]),
                        beta: try tensor(name + (old ? ".beta" : ".bias"), [c.hiddenSize]))
        }
        let h = c.hiddenSize
        wordEmbeddings = try weights.matrix(prefix + "embeddings.word_embeddings.weight", shape: [c.vocabularySize, h])
        positionEmbeddings = try tensor("embeddings.position_embeddings.weight", [c.maxPositions, h])
        tokenTypeEmbeddings = try tensor("embeddings.token_type_embeddings.weight", [c.typeVocabularySize, h])
        embeddingNorm = try norm("embeddings.LayerNorm")
        var blocks: [Block] = []
        for i in 0..<c.layers {
            let p = "encoder.layer.\(i)."
            // Stacked from their float32 weights, then converted as one layer.
            let parts = try ["query", "key", "value"].map { name throws(FormatError) in
                try linear(p + "attention.self." + name, out: h, in: h, precision: .float32)
            }
            let stackedWeight = Tensor(zeros: [3 * h, h]), stackedBias = Tensor(zeros: [3 * h])
            for (index, part) in parts.enumerated() {
                stackedWeight.rows(index * h..<(index + 1) * h).assign(part.weight)
                stackedBias.rows(index * h..<(index + 1) * h).assign(part.bias)
            }
            blocks.append(Block(
                queryKeyValue: Linear(weight: stackedWeight, bias: stackedBias, precision: precision),
                attentionOutput: try linear(p + "attention.output.dense", out: h, in: h),
                attentionNorm: try norm(p + "attention.output.LayerNorm"),
                intermediate: try linear(p + "intermediate.dense", out: c.intermediateSize, in: h),
                output: try linear(p + "output.dense", out: h, in: c.intermediateSize),
                outputNorm: try norm(p + "output.LayerNorm")))
        }
        self.blocks = blocks
        pooler = weights.contains(prefix + "pooler.dense.weight") ? try linear("pooler.dense", out: h, in: h) : nil
        // Buffers and pre-training heads, not weights of the encoder.
        weights.ignore { $0.hasSuffix("position_ids") || $0.hasSuffix("token_type_ids") || $0.hasPrefix("cls.") }
        try weights.finish()
        self.config = config
    }

    /// Hidden states [count, width, hidden] of a padded batch: `ids`,
    /// `tokenTypes` and `mask` (1 real, 0 padding) are flattened row by row.
    /// `observe` sees every named intermediate ("embeddings output",
    /// "encoder.layer.3 attention output", "encoder.layer.3 output", …), for
    /// dumping when a parity test fails.
    public func forward(
        ids: [Int], tokenTypes: [Int]? = nil, mask: [Int]? = nil, count: Int, width: Int,
        observe: ((String, Tensor) -> Void)? = nil
    ) throws(ModelError) -> Tensor {
        let c = config
        let tokens = count * width
        guard ids.count == tokens, tokenTypes.map({ $0.count == tokens }) ?? true, mask.map({ $0.count == tokens }) ?? true else {
            throw ModelError(.invalidConfig, "a batch of \(count)×\(width) needs \(tokens) ids, token types and mask values")
        }
        guard width <= c.maxPositions else {
            throw ModelError(.contextFull, "\(width) tokens exceed the model's \(c.maxPositions) positions")
        }
        for id in ids where id < 0 || id >= c.vocabularySize {
            throw ModelError(.tokenOutOfRange, "token id \(id) is outside the vocabulary of \(c.vocabularySize)")
        }
        for type in tokenTypes ?? [] where type < 0 || type >= c.typeVocabularySize {
            throw ModelError(.tokenOutOfRange, "token type \(type) is outside 0..<\(c.typeVocabularySize)")
        }
        if tokens == 0 { return Tensor(zeros: [count, width, c.hiddenSize]) }

        // Embeddings: word rows, plus position and token-type rows.
        let summed: Tensor
        do { summed = try wordEmbeddings.gatherRows(ids) } catch {
            throw ModelError(.tokenOutOfRange, error.description)
        }
        for row in 0..<count {
            let rows = summed.rows(row * width..<(row + 1) * width)
            rows.addInPlace(positionEmbeddings.rows(0..<width))
            for position in 0..<width {
                rows.row(position).addInPlace(tokenTypeEmbeddings.row(tokenTypes?[row * width + position] ?? 0))
            }
        }
        var hidden = layerNorm(summed, gamma: embeddingNorm.gamma, beta: embeddingNorm.beta, epsilon: c.layerNormEpsilon)
        observe?("embeddings output", hidden.reshaped([count, width, c.hiddenSize]))

        // Right padding (the usual case) lets attention skip the padded keys;
        // any other mask is added to the scores as float32's lowest value,
        // as PyTorch's extended attention mask does.
        var keyLengths: [Int]? = nil
        var keyBias: Tensor? = nil
        if let mask {
            let lengths = (0..<count).map { row in mask[row * width..<(row + 1) * width].prefix { $0 != 0 }.count }
            let isRightPadded = (0..<count).allSatisfy { row in !mask[(row * width + lengths[row])..<((row + 1) * width)].contains { $0 != 0 } }
            if isRightPadded {
                keyLengths = lengths
            } else {
                keyBias = try? Tensor(shape: [count, width], values: mask.map { $0 == 0 ? -Float.greatestFiniteMagnitude : 0 })
            }
        }
        // Everything but attention works token by token, so it runs on one
        // stretch of rows per compute thread (each thread's matrix products
        // single-threaded): three hand-offs per layer instead of one per
        // operation. Few rows stay whole, split inside each operation.
        let stretches = rowStretches(tokens)
        for (index, block) in blocks.enumerated() {
            let name = "encoder.layer.\(index)"
            let qkv = Tensor(zeros: [tokens, 3 * c.hiddenSize])
            onStretches(stretches) { rows in qkv.rows(rows).assign(block.queryKeyValue(hidden.rows(rows))) }
            let context = encoderSelfAttention(qkv: qkv, count: count, width: width, heads: c.heads,
                                               keyLengths: keyLengths, keyBias: keyBias)
            observe?(name + " attention context", context.reshaped([count, width, c.hiddenSize]))
            let attentionOutput = Tensor(zeros: [tokens, c.hiddenSize]), output = Tensor(zeros: [tokens, c.hiddenSize])
            let input = hidden
            onStretches(stretches) { rows in
                let attended = block.attentionOutput(context.rows(rows))
                attended.addInPlace(input.rows(rows))
                let normed = attentionOutput.rows(rows)
                layerNorm(attended, gamma: block.attentionNorm.gamma, beta: block.attentionNorm.beta, epsilon: c.layerNormEpsilon, into: normed)
                let expanded = block.intermediate(normed)
                geluErf(expanded, into: expanded)
                let projected = block.output(expanded)
                projected.addInPlace(normed)
                layerNorm(projected, gamma: block.outputNorm.gamma, beta: block.outputNorm.beta, epsilon: c.layerNormEpsilon, into: output.rows(rows))
            }
            observe?(name + " attention output", attentionOutput.reshaped([count, width, c.hiddenSize]))
            hidden = output
            observe?(name + " output", hidden.reshaped([count, width, c.hiddenSize]))
        }
        return hidden.reshaped([count, width, c.hiddenSize])
    }

    /// Row ranges for the token-wise phases: one per compute thread when
    /// each gets at least `minimumRows` rows, else all rows in one.
    private func rowStretches(_ tokens: Int, minimumRows: Int = 48) -> [Range<Int>] {
        let parts = max(1, min(ComputeThreads.count, tokens / minimumRows))
        return (0..<parts).map { part in tokens * part / parts..<tokens * (part + 1) / parts }
    }

    private func onStretches(_ stretches: [Range<Int>], _ body: (Range<Int>) -> Void) {
        if stretches.count == 1 {
            body(stretches[0])
            return
        }
        parallelFor(stretches.count, grain: 1) { parts in for part in parts { body(stretches[part]) } }
    }

    /// BERT's pooler: tanh(W · h[CLS] + b) for each sequence of `hidden`
    /// [count, width, hidden]; nil when the checkpoint has no pooler.
    public func poolerOutput(_ hidden: Tensor) -> Tensor? {
        guard let pooler, hidden.rank == 3 else { return nil }
        let count = hidden.shape[0], width = hidden.shape[1]
        let first = Tensor(zeros: [count, config.hiddenSize])
        for row in 0..<count { first.row(row).assign(hidden.row(row).row(0)) }
        guard width > 0 else { return nil }
        return tanh(pooler(first))
    }
}
