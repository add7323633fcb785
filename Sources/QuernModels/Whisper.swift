import Foundation
import QuernFormats
import QuernTensor

/// OpenAI's Whisper: a log-mel encoder and a text decoder with
/// cross-attention, computed in float32 whatever the stored precision.
///
/// - Encoder: GELU(conv1 k3 p1), GELU(conv2 k3 s2 p1) — 3000 mel frames
///   become 1500 — plus the sinusoidal positions, pre-LayerNorm blocks of
///   bidirectional self-attention and an erf-GELU MLP, a final LayerNorm.
/// - Decoder: token embeddings plus learned positions, pre-LayerNorm blocks
///   of causal self-attention (KV cache), cross-attention to the encoder
///   output (its keys and values computed once per window, in a
///   `WhisperDecoderSession`) and the MLP; a final LayerNorm and the output
///   projection, tied to the token embeddings.
///
/// Loads CTranslate2's `model.bin` (`WhisperSpec`: fused Q|K|V and K|V
/// projections, aliases, float16 data converted once at load) and Hugging
/// Face safetensors + config.json (`WhisperForConditionalGeneration`, whose
/// key projections have no bias).
public final class WhisperModel: @unchecked Sendable {
    public struct Config: Sendable, Equatable {
        public var vocabularySize: Int
        public var width: Int
        public var encoderLayers: Int
        public var decoderLayers: Int
        public var encoderHeads: Int
        public var decoderHeads: Int
        public var feedForwardSize: Int
        public var melBins: Int
        /// Encoder output frames of a full 30 s window (1500).
        public var sourcePositions: Int
        /// Decoder positions (448).
        public var targetPositions: Int
        public var layerNormEpsilon: Float = 1e-5

        public init(vocabularySize: Int, width: Int, encoderLayers: Int, decoderLayers: Int, encoderHeads: Int, decoderHeads: Int,
                    feedForwardSize: Int, melBins: Int, sourcePositions: Int, targetPositions: Int) {
            self.vocabularySize = vocabularySize
            self.width = width
            self.encoderLayers = encoderLayers
            self.decoderLayers = decoderLayers
            self.encoderHeads = encoderHeads
            self.decoderHeads = decoderHeads
            self.feedForwardSize = feedForwardSize
            self.melBins = melBins
            self.sourcePositions = sourcePositions
            self.targetPositions = targetPositions
        }

        /// Mel frames of a full window (twice the encoder's positions).
        public var windowFrames: Int { 2 * sourcePositions }

        /// A Hugging Face `config.json` (`model_type` whisper).
        public init(huggingFace json: WhisperConfigFile, file: String) throws(FormatError) {
            try SupportedChoice.modelType(json.modelType, "whisper", file: file)
            try SupportedChoice.gelu("activation_function", json.activationFunction, file: file)
            if json.scaleEmbedding == true {
                throw FormatError(.unsupportedType, file: file, "scale_embedding true is not supported (Whisper does not scale embeddings)")
            }
            self.init(vocabularySize: json.vocabSize, width: json.dModel,
                      encoderLayers: json.encoderLayers, decoderLayers: json.decoderLayers,
                      encoderHeads: json.encoderAttentionHeads, decoderHeads: json.decoderAttentionHeads,
                      feedForwardSize: json.decoderFFNDim, melBins: json.numMelBins,
                      sourcePositions: json.maxSourcePositions, targetPositions: json.maxTargetPositions)
            guard (json.encoderFFNDim ?? feedForwardSize) == feedForwardSize else {
                throw FormatError(.unsupportedType, file: file, "different encoder and decoder feed-forward sizes are not supported")
            }
            try validate(file: file)
        }

        func validate(file: String) throws(FormatError) {
            try ModelDimensions.check(file, [
                ("vocabulary size", vocabularySize, ModelDimensions.vocabulary), ("width", width, ModelDimensions.width),
                ("encoder layers", encoderLayers, ModelDimensions.layers), ("decoder layers", decoderLayers, ModelDimensions.layers),
                ("encoder heads", encoderHeads, ModelDimensions.heads), ("decoder heads", decoderHeads, ModelDimensions.heads),
                ("feed-forward size", feedForwardSize, ModelDimensions.feedForward), ("mel bins", melBins, ModelDimensions.small),
                ("source positions", sourcePositions, ModelDimensions.small), ("target positions", targetPositions, ModelDimensions.small),
            ])
            guard width % encoderHeads == 0, width % decoderHeads == 0 else {
                throw FormatError(.invalidValue, file: file, "width \(width) is not divisible by the attention heads (\(encoderHeads), \(decoderHeads))")
            }
            guard width % 2 == 0 else { throw FormatError(.invalidValue, file: file, "width \(width) is odd; the sinusoids need an even width") }
        }
    }

    /// x · Wᵀ + b. The encoder's weights are float32 tensors for sgemm; the
    /// decoder's keep their stored type in a `WeightMatrix` (float16 for a
    /// CTranslate2 file: the same values CTranslate2 converts to float32, at
    /// half the memory traffic of a token-by-token step, which reads every
    /// weight once).
    struct Linear {
        enum Weights {
            case dense(Tensor)
            case matrix(WeightMatrix)
            /// bfloat16 weights and the bias, on the bfloat16 tile.
            case reduced(BFloat16Linear)
        }
        let weights: Weights
        let bias: Tensor?

        init(weight: Tensor, bias: Tensor?) {
            weights = .dense(weight)
            self.bias = bias
        }

        init(matrix: WeightMatrix, bias: Tensor?) {
            weights = .matrix(matrix)
            self.bias = bias
        }

        func callAsFunction(_ x: Tensor) -> Tensor {
            switch weights {
            case let .dense(weight):
                // A decoding step's few rows skip sgemm's packing of the weights.
                return x.leadingCount <= fewRowsLinearLimit ? fewRowsLinear(x, weight: weight, bias: bias) : linear(x, weight: weight, bias: bias)
            case let .matrix(matrix):
                let rows = x.leadingCount
                let y = matrix.multiply(x.reshaped([rows, matrix.columns]))
                if let bias { for row in 0..<rows { y.row(row).addInPlace(bias) } }
                return y.reshaped(Array(x.shape.dropLast()) + [matrix.rows])
            case let .reduced(layer):
                return layer(x)
            }
        }

        /// The same layer in `precision`: in bfloat16 float32 weights are
        /// rounded once and the products run on the bfloat16 tile. Weights
        /// kept as stored (`matrix`: the decoder's) stay as they are.
        func converted(to precision: Precision) -> Linear {
            guard precision == .bfloat16, case let .dense(weight) = weights, BFloat16Linear.supports(inputFeatures: weight.shape[1]) else {
                return self
            }
            return Linear(reduced: BFloat16Linear(weight: weight, bias: bias))
        }

        private init(reduced: BFloat16Linear) {
            weights = .reduced(reduced)
            bias = nil
        }

        var residentBytes: Int {
            let biasBytes = (bias?.count ?? 0) * 4
            switch weights {
            case let .dense(weight): return weight.count * 4 + biasBytes
            case let .matrix(matrix): return matrix.rows * matrix.rowBytes + biasBytes
            case let .reduced(layer): return layer.residentBytes
            }
        }

        /// The same layer with its weights in a `WeightMatrix` (float32 kept).
        func asMatrix() throws(TensorError) -> Linear {
            guard case let .dense(weight) = weights else { return self }
            return Linear(matrix: try WeightMatrix(weight), bias: bias)
        }
    }

    struct Norm {
        let gamma, beta: Tensor
    }

    struct FeedForward {
        let norm: Norm
        let up, down: Linear
    }

    struct EncoderBlock {
        let attentionNorm: Norm
        /// [Q; K; V] stacked: [3·width, width].
        let queryKeyValue: Linear
        let attentionOutput: Linear
        let feedForward: FeedForward
    }

    struct DecoderBlock {
        let selfAttentionNorm: Norm
        let selfQueryKeyValue: Linear
        let selfOutput: Linear
        let crossNorm: Norm
        let crossQuery: Linear
        /// [K; V] stacked: [2·width, width].
        let crossKeyValue: Linear
        let crossOutput: Linear
        let feedForward: FeedForward
    }

    /// Everything a format loader binds.
    struct Weights {
        var conv1, conv2: TimeMajorConv1D
        var encoderPositions: Tensor
        var encoderBlocks: [EncoderBlock]
        var encoderNorm: Norm
        var tokenEmbeddings: WeightMatrix
        var decoderPositions: Tensor
        var decoderBlocks: [DecoderBlock]
        var decoderNorm: Norm
        /// [vocabulary, width]; the token embeddings themselves when tied.
        var outputProjection: WeightMatrix
    }

    public let config: Config
    let weights: Weights

    init(config: Config, weights: Weights) {
        self.config = config
        self.weights = weights
    }

    /// What the encoder's linear layers run in (the convolutions,
    /// attention's products, normalisation and the decoder stay as loaded).
    public var precision: Precision {
        if case .reduced = weights.encoderBlocks.first?.queryKeyValue.weights { return .bfloat16 }
        return .float32
    }

    /// This model with its encoder's linear layers in `precision` (see
    /// `Linear.converted`). The decoder keeps its stored weights (float16
    /// in a CTranslate2 file): a decoding step multiplies one or a few rows
    /// by every weight once, so it is bound by reading them, and bfloat16
    /// weights are no smaller than float16 ones — measured on the speech
    /// corpus, converting them too changed the real-time factor by under 1 %
    /// and added 60 MB of peak memory (the widened copies at load).
    public func converted(to precision: Precision) -> WhisperModel {
        guard precision != self.precision else { return self }
        var converted = weights
        converted.encoderBlocks = weights.encoderBlocks.map { block in
            EncoderBlock(attentionNorm: block.attentionNorm, queryKeyValue: block.queryKeyValue.converted(to: precision),
                         attentionOutput: block.attentionOutput.converted(to: precision),
                         feedForward: FeedForward(norm: block.feedForward.norm, up: block.feedForward.up.converted(to: precision),
                                                  down: block.feedForward.down.converted(to: precision)))
        }
        return WhisperModel(config: config, weights: converted)
    }

    /// Bytes of the encoder's and decoder's linear layers as held.
    public var linearWeightBytes: Int {
        let encoder = weights.encoderBlocks.reduce(0) {
            $0 + $1.queryKeyValue.residentBytes + $1.attentionOutput.residentBytes + $1.feedForward.up.residentBytes + $1.feedForward.down.residentBytes
        }
        return weights.decoderBlocks.reduce(encoder) {
            $0 + $1.selfQueryKeyValue.residentBytes + $1.selfOutput.residentBytes + $1.crossQuery.residentBytes + $1.crossKeyValue.residentBytes
                + $1.crossOutput.residentBytes + $1.feedForward.up.residentBytes + $1.feedForward.down.residentBytes
        }
    }

    // MARK: Encoder

    /// Encoder states [frames / 2, width] of a log-mel window [melBins,
    /// frames] (3000 frames for Whisper's 30 s). `observe` sees the named
    /// intermediates ("encoder.conv1 (before GELU)", "encoder.layers.0
    /// output", …) as [time, channels].
    public func encode(_ features: Tensor, observe: ((String, Tensor) -> Void)? = nil) throws(ModelError) -> Tensor {
        let c = config
        guard features.rank == 2, features.shape[0] == c.melBins else {
            throw ModelError(.invalidConfig, "the encoder takes [\(c.melBins) mel bins, frames], got \(features.shape)")
        }
        let frames = features.shape[1]
        guard frames >= 1, weights.conv2.outputLength(frames) <= c.sourcePositions else {
            throw ModelError(.contextFull, "\(frames) mel frames do not fit the encoder's \(c.sourcePositions) positions (\(c.windowFrames) frames)")
        }
        let timeMajor = transposeLastTwo(features)
        let first = weights.conv1(timeMajor)
        observe?("encoder.conv1 (before GELU)", first)
        geluErf(first, into: first)
        let hidden = weights.conv2(first)
        observe?("encoder.conv2 (before GELU)", hidden)
        geluErf(hidden, into: hidden)
        let steps = hidden.shape[0]
        hidden.addInPlace(weights.encoderPositions.rows(0..<steps))
        for (index, block) in weights.encoderBlocks.enumerated() {
            let normed = layerNorm(hidden, gamma: block.attentionNorm.gamma, beta: block.attentionNorm.beta, epsilon: c.layerNormEpsilon)
            let qkv = block.queryKeyValue(normed)
            let context = encoderSelfAttention(qkv: qkv, count: 1, width: steps, heads: c.encoderHeads)
            hidden.addInPlace(block.attentionOutput(context))
            applyFeedForward(block.feedForward, to: hidden)
            observe?("encoder.layers.\(index) output", hidden)
        }
        let output = layerNorm(hidden, gamma: weights.encoderNorm.gamma, beta: weights.encoderNorm.beta, epsilon: c.layerNormEpsilon)
        observe?("encoder.layer_norm output", output)
        return output
    }

    /// x += W₂ · GELU(W₁ · LN(x)).
    func applyFeedForward(_ feedForward: FeedForward, to hidden: Tensor) {
        let normed = layerNorm(hidden, gamma: feedForward.norm.gamma, beta: feedForward.norm.beta, epsilon: config.layerNormEpsilon)
        let expanded = feedForward.up(normed)
        geluErf(expanded, into: expanded)
        hidden.addInPlace(feedForward.down(expanded))
    }

    // MARK: Decoder

    /// A decoding session over one window's encoder states: computes every
    /// layer's cross-attention keys and values once.
    public func makeDecoderSession(encoderStates: Tensor) throws(ModelError) -> WhisperDecoderSession {
        guard encoderStates.rank == 2, encoderStates.shape[1] == config.width, encoderStates.shape[0] >= 1 else {
            throw ModelError(.invalidConfig, "encoder states must be [frames, \(config.width)], got \(encoderStates.shape)")
        }
        return WhisperDecoderSession(model: self, encoderStates: encoderStates)
    }
}

/// One window's decoder state: the cross-attention keys/values and the
/// self-attention KV caches of the tokens decoded so far.
public final class WhisperDecoderSession: @unchecked Sendable {
    let model: WhisperModel
    /// [heads, frames, dimension] per layer.
    let crossKeys: [Tensor]
    let crossValues: [Tensor]
    let caches: [KVCache]

    init(model: WhisperModel, encoderStates: Tensor) {
        let c = model.config
        let heads = c.decoderHeads, dimension = c.width / heads, frames = encoderStates.shape[0]
        var keys: [Tensor] = [], values: [Tensor] = []
        // Head-major [heads, frames, dimension], so that each step's single
        // query reads every head's keys and values as contiguous rows.
        for block in model.weights.decoderBlocks {
            let keyValue = block.crossKeyValue(encoderStates).reshaped([frames, 2 * heads, dimension])
            let headMajor = permute(keyValue, [1, 0, 2])
            keys.append(headMajor.rows(0..<heads))
            values.append(headMajor.rows(heads..<2 * heads))
        }
        self.model = model
        crossKeys = keys
        crossValues = values
        caches = model.weights.decoderBlocks.map { _ in KVCache(capacity: c.targetPositions, heads: heads, headDimension: dimension) }
    }

    /// Tokens decoded so far.
    public var count: Int { caches.first?.count ?? 0 }

    /// Starts over (same window): the next `step` is at position 0.
    public func reset() {
        for cache in caches { cache.truncate(to: 0) }
    }

    /// Feeds `tokens` after the ones already decoded and returns the logits
    /// [tokens.count, vocabulary] (or only the last row's [1, vocabulary]).
    /// `observe` sees "decoder.layers.i output" and "decoder.layer_norm output".
    /// `crossQueries` sees each layer's cross-attention queries [tokens,
    /// width] (before scaling), from which word alignment recomputes the
    /// attention of its heads over `crossKeys`.
    public func step(_ tokens: [Int], allLogits: Bool = false, observe: ((String, Tensor) -> Void)? = nil,
                     crossQueries: ((_ layer: Int, _ queries: Tensor) -> Void)? = nil) throws(ModelError) -> Tensor {
        let c = model.config, w = model.weights
        let start = count, length = tokens.count
        guard length >= 1 else { throw ModelError(.invalidConfig, "a decoder step needs at least one token") }
        guard start + length <= c.targetPositions else {
            throw ModelError(.contextFull, "\(start) + \(length) tokens exceed the decoder's \(c.targetPositions) positions")
        }
        for token in tokens where token < 0 || token >= c.vocabularySize {
            throw ModelError(.tokenOutOfRange, "token id \(token) is outside the vocabulary of \(c.vocabularySize)")
        }
        let heads = c.decoderHeads, dimension = c.width / heads, epsilon = c.layerNormEpsilon
        let hidden: Tensor
        do { hidden = try w.tokenEmbeddings.gatherRows(tokens) } catch { throw ModelError(.tokenOutOfRange, error.description) }
        hidden.addInPlace(w.decoderPositions.rows(start..<start + length))
        for (index, block) in w.decoderBlocks.enumerated() {
            var normed = layerNorm(hidden, gamma: block.selfAttentionNorm.gamma, beta: block.selfAttentionNorm.beta, epsilon: epsilon)
            let qkv = block.selfQueryKeyValue(normed)
            let query = qkv.columns(0..<c.width).reshaped([length, heads, dimension])
            do {
                try caches[index].append(keys: qkv.columns(c.width..<2 * c.width).reshaped([length, heads, dimension]),
                                         values: qkv.columns(2 * c.width..<3 * c.width).reshaped([length, heads, dimension]))
            } catch {
                throw ModelError(.contextFull, error.description)
            }
            let selfContext = scaledDotProductAttention(query: query, key: caches[index].cachedKeys, value: caches[index].cachedValues, causal: true)
            hidden.addInPlace(block.selfOutput(selfContext.reshaped([length, c.width])))

            normed = layerNorm(hidden, gamma: block.crossNorm.gamma, beta: block.crossNorm.beta, epsilon: epsilon)
            let crossQuery = block.crossQuery(normed)
            crossQueries?(index, crossQuery)
            let crossContext = Tensor(zeros: [length, c.width])
            for row in 0..<length {
                let context = singleQueryAttention(query: crossQuery.row(row).reshaped([heads, dimension]),
                                                   keys: crossKeys[index], values: crossValues[index])
                crossContext.row(row).assign(context)
            }
            hidden.addInPlace(block.crossOutput(crossContext))

            model.applyFeedForward(block.feedForward, to: hidden)
            observe?("decoder.layers.\(index) output", hidden)
        }
        let rows = allLogits ? hidden : hidden.rows(length - 1..<length)
        let normed = layerNorm(rows, gamma: w.decoderNorm.gamma, beta: w.decoderNorm.beta, epsilon: epsilon)
        observe?("decoder.layer_norm output", normed)
        return w.outputProjection.multiply(normed)
    }
}
