import Foundation
import QuernFormats
import QuernTensor
import QuernTokenizers
import Synchronization

/// One text's embedding. A text longer than the model's maximum sequence
/// length is cut into windows (see `WindowedText`); each window is embedded
/// on its own and `vector` is the mean of the window vectors, L2-normalised
/// again when the model normalises. For a text that fits, and for a text
/// tokenized with `.truncate` (one window), `vector` is the only window's
/// vector, exactly what sentence-transformers computes.
public struct TextEmbedding: Sendable, Equatable {
    public struct Window: Sendable, Equatable {
        /// Which word pieces of the text the window holds.
        public var pieces: Range<Int>
        public var vector: [Float]
    }

    public var vector: [Float]
    /// Word pieces of the whole text, special tokens excluded.
    public var pieceCount: Int
    public var windows: [Window]
}

/// A sentence-transformers model folder: `modules.json` (Transformer →
/// Pooling → optional Normalize), the BERT checkpoint and tokenizer in the
/// folder itself, `1_Pooling/config.json` and `sentence_bert_config.json`
/// (`max_seq_length`, `do_lower_case`).
public final class SentenceEmbedder: @unchecked Sendable {
    public let name: String
    public let directory: String
    public let model: BERTModel
    public let tokenizer: WordPieceTokenizer
    public let pooling: SentencePooling
    /// Tokens per model input, special tokens included (256 for all-MiniLM-L6-v2).
    public let maxSequenceLength: Int
    /// sentence_bert_config.json's `do_lower_case`: lower-case texts before tokenizing.
    public let lowercaseInput: Bool
    /// The weights file, for the checksum in results.
    public let weightsPath: String

    public var dimensions: Int { model.config.hiddenSize }

    /// `precision` applies to the encoder's linear layers (see `BERTModel`).
    public init(directory: String, precision: Precision = .float32) throws {
        self.directory = directory
        name = URL(fileURLWithPath: directory).lastPathComponent
        let modulesPath = directory + "/modules.json"
        let modules = try JSONFile.decode([SentenceTransformersModule].self, at: modulesPath)
        var poolingPath: String?
        var normalize = false
        for (position, module) in modules.enumerated() {
            let type = module.type ?? ""
            let path = module.path ?? ""
            switch type.split(separator: ".").last.map(String.init) ?? "" {
            case "Transformer":
                guard position == 0, path.isEmpty else {
                    throw FormatError(.unsupportedType, file: modulesPath, "the Transformer module must come first and live in the folder itself")
                }
            case "Pooling": poolingPath = path
            case "Normalize": normalize = true
            default:
                throw FormatError(.unsupportedType, file: modulesPath, "module \(type) is not supported (Transformer, Pooling and Normalize are)")
            }
        }
        guard let poolingPath, !poolingPath.contains(".."), !poolingPath.hasPrefix("/") else {
            throw FormatError(.invalidValue, file: modulesPath, "no usable Pooling module")
        }
        let poolingFile = directory + "/" + poolingPath + "/config.json"
        pooling = try SentencePooling(configuration: JSONFile.decode(PoolingConfigFile.self, at: poolingFile), normalize: normalize, file: poolingFile)

        let checkpoint = try SafetensorsCheckpoint(directory: directory)
        let config = try BERTModel.Config.load(path: directory + "/config.json")
        model = try BERTModel(config: config, weights: WeightBinder(file: checkpoint.path, tensors: checkpoint.tensors), precision: precision)
        weightsPath = checkpoint.path
        tokenizer = try WordPieceTokenizer.load(directory: directory)

        let sentenceConfigPath = directory + "/sentence_bert_config.json"
        let sentenceConfig = try JSONFile.decodeIfPresent(SentenceBERTConfigFile.self, at: sentenceConfigPath) ?? SentenceBERTConfigFile()
        let length = sentenceConfig.maxSeqLength ?? config.maxPositions
        guard length > tokenizer.specialTokensPerSequence, length <= config.maxPositions else {
            throw FormatError(.invalidValue, file: sentenceConfigPath, "max_seq_length \(length) must lie in \(tokenizer.specialTokensPerSequence + 1)...\(config.maxPositions)")
        }
        maxSequenceLength = length
        lowercaseInput = sentenceConfig.doLowerCase ?? false
    }

    /// The model inputs for `text`: one window, or several when it is long
    /// (with `.truncate`, always one: its first `maxSequenceLength` tokens).
    public func tokenize(_ text: String, longText: LongTextHandling = .windows) throws(TokenizerError) -> WindowedText {
        try tokenizer.windows(lowercaseInput ? text.lowercased() : text, maxLength: maxSequenceLength, longText: longText)
    }

    /// Embeds tokenized texts. All windows of all texts are sorted by length
    /// and run `batchSize` at a time, so little is spent on padding;
    /// `checkCancellation` runs between batches.
    public func embed(_ texts: [WindowedText], batchSize: Int = 32, checkCancellation: () throws -> Void = {}) throws -> [TextEmbedding] {
        var order: [(text: Int, window: Int, length: Int)] = []
        for (t, text) in texts.enumerated() {
            for (w, window) in text.windows.enumerated() { order.append((t, w, window.ids.count)) }
        }
        order.sort { $0.length > $1.length }
        var vectors = texts.map { [[Float]](repeating: [], count: $0.windows.count) }
        var start = 0
        while start < order.count {
            try checkCancellation()
            let chunk = Array(order[start..<min(order.count, start + max(1, batchSize))])
            let pooled = try embedWindows(chunk.map { texts[$0.text].windows[$0.window].ids })
            for (item, vector) in zip(chunk, pooled) { vectors[item.text][item.window] = vector }
            start += chunk.count
        }
        return zip(texts, vectors).map { text, windowVectors in
            let windows = zip(text.windows, windowVectors).map { TextEmbedding.Window(pieces: $0.pieces, vector: $1) }
            return TextEmbedding(vector: combine(windowVectors), pieceCount: text.pieceCount, windows: windows)
        }
    }

    /// Pooled vectors of one batch of model inputs.
    ///
    /// With several inputs and several compute threads the batch is split
    /// into one sub-batch per thread (balanced by tokens, each padded only
    /// to its own longest input) and the sub-batches run side by side, each
    /// thread with single-threaded BLAS. On a few cores this beats splitting
    /// every matrix product: no hand-offs between BLAS's threads and Quern's
    /// between operations, and the products stay large enough to run near peak.
    func embedWindows(_ inputs: [[Int]]) throws -> [[Float]] {
        let groups = min(inputs.count, ComputeThreads.count)
        guard groups > 1 else { return try run(inputs) }
        // Longest first onto the lightest group (inputs arrive sorted by length).
        var members = [[Int]](repeating: [], count: groups)
        var load = [Int](repeating: 0, count: groups)
        for index in inputs.indices.sorted(by: { inputs[$0].count > inputs[$1].count }) {
            let lightest = load.indices.min { load[$0] < load[$1] } ?? 0
            members[lightest].append(index)
            load[lightest] += inputs[index].count
        }
        let outcomes = Mutex([Result<[[Float]], any Error>](repeating: .success([]), count: groups))
        parallelFor(groups, grain: 1) { range in
            for group in range {
                let outcome = Result { try run(members[group].map { inputs[$0] }) }
                outcomes.withLock { $0[group] = outcome }
            }
        }
        var vectors = [[Float]](repeating: [], count: inputs.count)
        for (group, outcome) in outcomes.withLock({ $0 }).enumerated() {
            for (index, vector) in zip(members[group], try outcome.get()) { vectors[index] = vector }
        }
        return vectors
    }

    /// One padded forward pass and pooling.
    private func run(_ inputs: [[Int]]) throws -> [[Float]] {
        let batch = PaddedBatch(inputs, paddingID: tokenizer.paddingID)
        let hidden = try model.forward(ids: batch.ids, tokenTypes: batch.tokenTypeIDs, mask: batch.attentionMask,
                                       count: batch.count, width: batch.width)
        return pooling.pool(hidden, lengths: batch.lengths)
    }

    /// Tokenizes and embeds strings.
    public func embed(_ strings: [String], batchSize: Int = 32, longText: LongTextHandling = .windows) throws -> [TextEmbedding] {
        var texts: [WindowedText] = []
        for string in strings { texts.append(try tokenize(string, longText: longText)) }
        return try embed(texts, batchSize: batchSize)
    }

    /// The mean of the window vectors (renormalised when the model normalises).
    private func combine(_ vectors: [[Float]]) -> [Float] {
        guard vectors.count > 1, let first = vectors.first else { return vectors.first ?? [] }
        var mean = [Float](repeating: 0, count: first.count)
        for vector in vectors { for d in 0..<min(mean.count, vector.count) { mean[d] += vector[d] } }
        for d in 0..<mean.count { mean[d] /= Float(vectors.count) }
        return pooling.normalize ? SentencePooling.normalized(mean) : mean
    }
}
