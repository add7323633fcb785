import ArgumentParser
import Dispatch
import Foundation
import QuernModels
import QuernPipelines
import QuernTensor
import QuernTokenizers

/// `quern embed`: sentence embeddings for texts, or (`--bench`) the
/// embedding throughput on a list of texts, as scripts/bench-embeddings.py
/// measures it next to sentence-transformers.
struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Prints sentence embeddings (all-MiniLM-L6-v2 by default) as JSON lines, or measures their throughput with --bench.")

    @Option(help: "A sentence-transformers model folder (default: the embed model in --models, all-minilm-l6-v2).")
    var model: String?

    @OptionGroup var models: ModelsOption

    @Option(name: .customLong("input"), help: ArgumentHelp("A JSON file holding a list of texts (instead of arguments).", valueName: "file"))
    var inputFile: String?

    @Option(name: .customLong("batch-size"), help: "Texts per model batch.")
    var batchSize = 32

    @Flag(help: "Embed only the first max_seq_length tokens of a long text, exactly as sentence-transformers does (default: the mean of windows covering the whole text).")
    var truncate = false

    @Flag(help: "Measure throughput instead of printing embeddings.")
    var bench = false

    @Option(help: "With --bench: timed passes over the texts (after one warm-up pass); the best pass is reported.")
    var repeats = 3

    @OptionGroup var compute: ComputeOptions

    @Argument(help: "Texts to embed (default: --input, else standard input as one text).")
    var texts: [String] = []

    func run() throws {
        _ = try compute.prepare()
        guard batchSize > 0, repeats > 0 else { throw ValidationError("--batch-size and --repeats must be positive") }
        let embedder = try SentenceEmbedder(directory: models.locate(.embed, explicitPath: model).declaration.loadPath)
        let inputs = try readTexts()
        if bench {
            try measure(embedder, inputs)
            return
        }
        let windowed = try inputs.map { try embedder.tokenize($0, longText: longText) }
        let results = try embedder.embed(windowed, batchSize: batchSize)
        for (text, result) in zip(windowed, results) {
            var line: [String: Any] = [
                "embedding": result.vector.map(Double.init),
                "tokens": text.pieceCount + embedder.tokenizer.specialTokensPerSequence,
                "windows": result.windows.count,
            ]
            if text.isTruncated {
                line["truncated"] = ["pieces_used": text.embeddedPieceCount, "pieces_total": text.pieceCount]
            }
            let data = try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys])
            FileHandle.standardOutput.write(data + Data("\n".utf8))
        }
    }

    private var longText: LongTextHandling { truncate ? .truncate : .windows }

    private func readTexts() throws -> [String] {
        if let inputFile {
            let data = try Data(contentsOf: URL(fileURLWithPath: inputFile))
            guard let list = try JSONSerialization.jsonObject(with: data) as? [String] else {
                throw ValidationError("\(inputFile) must hold a JSON list of strings")
            }
            return list
        }
        if !texts.isEmpty { return texts }
        return [String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)]
    }

    /// Tokenizing is part of the measured time, as it is in
    /// sentence-transformers' `encode`.
    private func measure(_ embedder: SentenceEmbedder, _ inputs: [String]) throws {
        func pass() throws -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            var index = 0
            while index < inputs.count {
                let chunk = inputs[index..<min(inputs.count, index + batchSize)]
                _ = try embedder.embed(Array(chunk), batchSize: batchSize, longText: longText)
                index += chunk.count
            }
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        _ = try pass()
        var best = Double.infinity
        for _ in 0..<repeats { best = min(best, try pass()) }
        let report: [String: Any] = [
            "engine": "quern", "texts": inputs.count, "batch_size": batchSize, "threads": ComputeThreads.count,
            "seconds": best, "sentences_per_second": Double(inputs.count) / best,
        ]
        let data = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys])
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }
}
