import Foundation
import QuernFormats
import QuernTensor

extension WhisperModel {
    /// The model in `directory`: CTranslate2's `model.bin` when present, else
    /// Hugging Face safetensors + config.json.
    public static func load(directory: String) throws(FormatError) -> WhisperModel {
        if FileManager.default.fileExists(atPath: directory + "/" + CTranslate2Model.fileName) {
            return try loadCTranslate2(directory: directory)
        }
        return try loadHuggingFace(directory: directory)
    }

    // MARK: Hugging Face

    /// `WhisperForConditionalGeneration` (or `WhisperModel`) safetensors and
    /// its config.json. `proj_out.weight`, when stored, is the output
    /// projection; otherwise it is tied to the token embeddings.
    public static func loadHuggingFace(directory: String) throws(FormatError) -> WhisperModel {
        let configPath = directory + "/config.json"
        let config = try Config(huggingFace: JSONFile.decode(WhisperConfigFile.self, at: configPath), file: configPath)
        let checkpoint = try SafetensorsCheckpoint(directory: directory)
        let binder = WeightBinder(file: checkpoint.path, tensors: checkpoint.tensors)
        let prefix = binder.contains("model.encoder.conv1.weight") ? "model." : ""
        let h = config.width, f = config.feedForwardSize
        func tensor(_ name: String, _ shape: [Int]) throws(FormatError) -> Tensor { try binder.tensor(prefix + name, shape: shape) }
        func linear(_ name: String, out: Int, in inputs: Int, bias: Bool = true) throws(FormatError) -> Linear {
            Linear(weight: try tensor(name + ".weight", [out, inputs]), bias: bias ? try tensor(name + ".bias", [out]) : nil)
        }
        func norm(_ name: String) throws(FormatError) -> Norm {
            Norm(gamma: try tensor(name + ".weight", [h]), beta: try tensor(name + ".bias", [h]))
        }
        func feedForward(_ p: String) throws(FormatError) -> FeedForward {
            FeedForward(norm: try norm(p + "final_layer_norm"), up: try linear(p + "fc1", out: f, in: h), down: try linear(p + "fc2", out: h, in: f))
        }
        /// Q|K|V (or K|V) stacked into one projection; k_proj has no bias.
        func stacked(_ p: String, _ parts: [String]) throws(FormatError) -> Linear {
            let weight = Tensor(zeros: [parts.count * h, h]), bias = Tensor(zeros: [parts.count * h])
            for (index, part) in parts.enumerated() {
                let rows = index * h..<(index + 1) * h
                weight.rows(rows).assign(try tensor(p + part + ".weight", [h, h]))
                if part != "k_proj" { bias.rows(rows).assign(try tensor(p + part + ".bias", [h])) }
            }
            return Linear(weight: weight, bias: bias)
        }
        let encoderBlocks = try (0..<config.encoderLayers).map { i throws(FormatError) in
            let p = "encoder.layers.\(i)."
            return EncoderBlock(attentionNorm: try norm(p + "self_attn_layer_norm"),
                                queryKeyValue: try stacked(p + "self_attn.", ["q_proj", "k_proj", "v_proj"]),
                                attentionOutput: try linear(p + "self_attn.out_proj", out: h, in: h),
                                feedForward: try feedForward(p))
        }
        func matrix(_ layer: Linear) throws(FormatError) -> Linear {
            do { return try layer.asMatrix() } catch { throw FormatError(error, file: checkpoint.path) }
        }
        let decoderBlocks = try (0..<config.decoderLayers).map { i throws(FormatError) in
            let p = "decoder.layers.\(i)."
            let mlp = try feedForward(p)
            return DecoderBlock(selfAttentionNorm: try norm(p + "self_attn_layer_norm"),
                                selfQueryKeyValue: try matrix(try stacked(p + "self_attn.", ["q_proj", "k_proj", "v_proj"])),
                                selfOutput: try matrix(try linear(p + "self_attn.out_proj", out: h, in: h)),
                                crossNorm: try norm(p + "encoder_attn_layer_norm"),
                                crossQuery: try matrix(try linear(p + "encoder_attn.q_proj", out: h, in: h)),
                                crossKeyValue: try matrix(try stacked(p + "encoder_attn.", ["k_proj", "v_proj"])),
                                crossOutput: try matrix(try linear(p + "encoder_attn.out_proj", out: h, in: h)),
                                feedForward: FeedForward(norm: mlp.norm, up: try matrix(mlp.up), down: try matrix(mlp.down)))
        }
        let embeddings = try binder.matrix(prefix + "decoder.embed_tokens.weight", shape: [config.vocabularySize, h])
        let projection = binder.contains("proj_out.weight") ? try binder.matrix("proj_out.weight", shape: [config.vocabularySize, h]) : embeddings
        let weights = Weights(
            conv1: TimeMajorConv1D(weight: try tensor("encoder.conv1.weight", [h, config.melBins, 3]), bias: try tensor("encoder.conv1.bias", [h]), stride: 1, padding: 1),
            conv2: TimeMajorConv1D(weight: try tensor("encoder.conv2.weight", [h, h, 3]), bias: try tensor("encoder.conv2.bias", [h]), stride: 2, padding: 1),
            encoderPositions: try tensor("encoder.embed_positions.weight", [config.sourcePositions, h]),
            encoderBlocks: encoderBlocks,
            encoderNorm: try norm("encoder.layer_norm"),
            tokenEmbeddings: embeddings,
            decoderPositions: try tensor("decoder.embed_positions.weight", [config.targetPositions, h]),
            decoderBlocks: decoderBlocks,
            decoderNorm: try norm("decoder.layer_norm"),
            outputProjection: projection)
        try binder.finish()
        return WhisperModel(config: config, weights: weights)
    }

    // MARK: CTranslate2

    /// CTranslate2's `WhisperSpec` `model.bin`. The dimensions come from the
    /// tensors' shapes, the head counts from the `num_heads` options; the
    /// options this file does not implement (another activation, post-norm,
    /// scaled embeddings, ALiBi) are refused.
    public static func loadCTranslate2(directory: String) throws(FormatError) -> WhisperModel {
        let model = try CTranslate2Model(path: directory + "/" + CTranslate2Model.fileName)
        let file = model.path
        guard model.specName == "WhisperSpec" else {
            throw FormatError(.unsupportedType, file: file, "spec \(model.specName) is not WhisperSpec")
        }
        for (option, expected) in [("decoder/activation", 3), ("decoder/pre_norm", 1), ("decoder/scale_embeddings", 0),
                                   ("decoder/alibi", 0), ("encoder/activation", 3), ("encoder/pre_norm", 1)] {
            if let value = model.integerOption(option), value != expected {
                throw FormatError(.unsupportedType, file: file, "option \(option) = \(value) is not supported (\(expected) is)")
            }
        }
        let binder = WeightBinder(file: file, tensors: model.tensors)
        func shape(_ name: String) throws(FormatError) -> [Int] {
            guard let stored = model.tensor(named: name) else { throw FormatError(.missingTensor, file: file, "tensor \(name) is missing") }
            return stored.shape
        }
        func layerCount(_ side: String) -> Int {
            var count = 0
            while model.tensor(named: "\(side)/layer_\(count)/ffn/linear_0/weight") != nil { count += 1 }
            return count
        }
        let embeddingShape = try shape("decoder/embeddings/weight"), conv1Shape = try shape("encoder/conv1/weight")
        let feedForwardShape = try shape("encoder/layer_0/ffn/linear_0/weight")
        guard embeddingShape.count == 2, conv1Shape.count == 3, feedForwardShape.count == 2 else {
            throw FormatError(.shapeMismatch, file: file, "embeddings \(embeddingShape), conv1 \(conv1Shape) or feed-forward \(feedForwardShape) have the wrong rank")
        }
        guard let encoderHeads = model.integerOption("encoder/num_heads"), let decoderHeads = model.integerOption("decoder/num_heads"),
              encoderHeads > 0, decoderHeads > 0 else {
            throw FormatError(.invalidValue, file: file, "encoder/num_heads and decoder/num_heads must be positive integer options")
        }
        let h = embeddingShape[1]
        let decoderPositionShape = try shape("decoder/position_encodings/encodings")
        let sourcePositions = (try? shape("encoder/position_encodings/encodings"))?.first ?? 1500
        let config = Config(vocabularySize: embeddingShape[0], width: h, encoderLayers: layerCount("encoder"), decoderLayers: layerCount("decoder"),
                            encoderHeads: encoderHeads, decoderHeads: decoderHeads, feedForwardSize: feedForwardShape[0],
                            melBins: conv1Shape[1], sourcePositions: sourcePositions, targetPositions: decoderPositionShape.first ?? 0)
        try config.validate(file: file)
        let f = config.feedForwardSize
        func tensor(_ name: String, _ shape: [Int]) throws(FormatError) -> Tensor { try binder.tensor(name, shape: shape) }
        func linear(_ name: String, out: Int, in inputs: Int) throws(FormatError) -> Linear {
            Linear(weight: try tensor(name + "/weight", [out, inputs]), bias: try tensor(name + "/bias", [out]))
        }
        func norm(_ name: String) throws(FormatError) -> Norm {
            Norm(gamma: try tensor(name + "/gamma", [h]), beta: try tensor(name + "/beta", [h]))
        }
        func feedForward(_ p: String) throws(FormatError) -> FeedForward {
            FeedForward(norm: try norm(p + "ffn/layer_norm"), up: try linear(p + "ffn/linear_0", out: f, in: h), down: try linear(p + "ffn/linear_1", out: h, in: f))
        }
        /// A decoder layer: the weights stay as stored (memory-mapped float16).
        func stored(_ name: String, out: Int, in inputs: Int) throws(FormatError) -> Linear {
            Linear(matrix: try binder.matrix(name + "/weight", shape: [out, inputs]), bias: try tensor(name + "/bias", [out]))
        }
        let encoderBlocks = try (0..<config.encoderLayers).map { i throws(FormatError) in
            let p = "encoder/layer_\(i)/"
            return EncoderBlock(attentionNorm: try norm(p + "self_attention/layer_norm"),
                                queryKeyValue: try linear(p + "self_attention/linear_0", out: 3 * h, in: h),
                                attentionOutput: try linear(p + "self_attention/linear_1", out: h, in: h),
                                feedForward: try feedForward(p))
        }
        let decoderBlocks = try (0..<config.decoderLayers).map { i throws(FormatError) in
            let p = "decoder/layer_\(i)/"
            return DecoderBlock(selfAttentionNorm: try norm(p + "self_attention/layer_norm"),
                                selfQueryKeyValue: try stored(p + "self_attention/linear_0", out: 3 * h, in: h),
                                selfOutput: try stored(p + "self_attention/linear_1", out: h, in: h),
                                crossNorm: try norm(p + "attention/layer_norm"),
                                crossQuery: try stored(p + "attention/linear_0", out: h, in: h),
                                crossKeyValue: try stored(p + "attention/linear_1", out: 2 * h, in: h),
                                crossOutput: try stored(p + "attention/linear_2", out: h, in: h),
                                feedForward: FeedForward(norm: try norm(p + "ffn/layer_norm"), up: try stored(p + "ffn/linear_0", out: f, in: h),
                                                         down: try stored(p + "ffn/linear_1", out: h, in: f)))
        }
        let embeddings = try binder.matrix("decoder/embeddings/weight", shape: [config.vocabularySize, h])
        // The projection is usually an alias of the embeddings (tied); a
        // stored one of its own is used as it is.
        let projectionName = "decoder/projection/weight"
        let projection = binder.contains(projectionName) ? try binder.matrix(projectionName, shape: [config.vocabularySize, h]) : embeddings
        if binder.contains("decoder/projection/bias") {
            throw FormatError(.unsupportedType, file: file, "an output projection bias is not supported")
        }
        let encoderPositions = binder.contains("encoder/position_encodings/encodings")
            ? try tensor("encoder/position_encodings/encodings", [config.sourcePositions, h])
            : whisperSinusoids(positions: config.sourcePositions, width: h)
        let weights = Weights(
            conv1: TimeMajorConv1D(weight: try tensor("encoder/conv1/weight", [h, config.melBins, 3]), bias: try tensor("encoder/conv1/bias", [h]), stride: 1, padding: 1),
            conv2: TimeMajorConv1D(weight: try tensor("encoder/conv2/weight", [h, h, 3]), bias: try tensor("encoder/conv2/bias", [h]), stride: 2, padding: 1),
            encoderPositions: encoderPositions,
            encoderBlocks: encoderBlocks,
            encoderNorm: try norm("encoder/layer_norm"),
            tokenEmbeddings: embeddings,
            decoderPositions: try tensor("decoder/position_encodings/encodings", [config.targetPositions, h]),
            decoderBlocks: decoderBlocks,
            decoderNorm: try norm("decoder/layer_norm"),
            outputProjection: projection)
        try binder.finish()
        return WhisperModel(config: config, weights: weights)
    }
}

/// Whisper's encoder positions: row p is [sin(p·f₀ … p·f_{n−1}), cos(p·f₀ …)]
/// with n = width / 2 and f_i = exp(−i · ln(10000) / (n − 1)), computed in
/// double precision and rounded once.
func whisperSinusoids(positions: Int, width: Int) -> Tensor {
    let half = width / 2
    let increment = log(10_000.0) / Double(max(half - 1, 1))
    var values = [Float](repeating: 0, count: positions * width)
    for p in 0..<positions {
        for i in 0..<half {
            let angle = Double(p) * exp(-Double(i) * increment)
            values[p * width + i] = Float(sin(angle))
            values[p * width + half + i] = Float(cos(angle))
        }
    }
    let table = Tensor(zeros: [positions, width])
    for (index, value) in values.enumerated() { table[flat: index] = value }
    return table
}
