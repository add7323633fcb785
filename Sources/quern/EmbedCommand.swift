import ArgumentParser
import Dispatch
import Foundation
import QuernFormats
import QuernJSON
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

    @Option(help: ArgumentHelp("The linear layers' precision: float32 or bfloat16.", valueName: "precision"))
    var precision: Precision = .float32

    @OptionGroup var compute: ComputeOptions

    @Argument(help: "Texts to embed (default: --input, else standard input as one text).")
    var texts: [String] = []

    func run() throws {
        _ = try compute.prepare()
        guard batchSize > 0, repeats > 0 else { throw ValidationError("--batch-size and --repeats must be positive") }
        let loadStart = DispatchTime.now().uptimeNanoseconds
        let embedder = try SentenceEmbedder(directory: models.locate(.embed, explicitPath: model).declaration.loadPath, precision: precision)
        let loadSeconds = Double(DispatchTime.now().uptimeNanoseconds - loadStart) / 1e9
        let inputs = try readTexts()
        if bench {
            try measure(embedder, inputs, loadSeconds: loadSeconds)
            return
        }
        let windowed = try inputs.map { try embedder.tokenize($0, longText: longText) }
        let results = try embedder.embed(windowed, batchSize: batchSize)
        for (text, result) in zip(windowed, results) {
            // Keys in alphabetical order and doubles in their shortest form:
            // the lines read exactly as they did when Foundation wrote them.
            var members: [(key: String, value: JSONValue)] = [
                ("embedding", .array(result.vector.map { .shortest(Double($0)) })),
                ("tokens", .int(text.pieceCount + embedder.tokenizer.specialTokensPerSequence)),
            ]
            if text.isTruncated {
                members.append(("truncated", .object([("pieces_total", .int(text.pieceCount)), ("pieces_used", .int(text.embeddedPieceCount))])))
            }
            members.append(("windows", .int(result.windows.count)))
            FileHandle.standardOutput.write(Data(JSONWriter.bytes(.object(members), style: .compact) + [0x0A]))
        }
    }

    private var longText: LongTextHandling { truncate ? .truncate : .windows }

    private func readTexts() throws -> [String] {
        if let inputFile {
            let list: [String]
            do { list = try JSONFile.decode([String].self, at: inputFile) } catch {
                throw ValidationError("\(inputFile) must hold a JSON list of strings: \(error.message)")
            }
            return list
        }
        if !texts.isEmpty { return texts }
        return [String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)]
    }

    /// Tokenizing is part of the measured time, as it is in
    /// sentence-transformers' `encode`.
    private func measure(_ embedder: SentenceEmbedder, _ inputs: [String], loadSeconds: Double) throws {
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
        let report = JSONValue.object([
            ("batch_size", .int(batchSize)), ("engine", .string("quern")), ("seconds", .shortest(best)),
            ("sentences_per_second", .shortest(Double(inputs.count) / best)), ("texts", .int(inputs.count)),
            ("threads", .int(ComputeThreads.count)), ("precision", .string(precision.rawValue)), ("load_seconds", .shortest(loadSeconds)),
            ("linear_weights_mb", .shortest(Double(embedder.model.linearWeightBytes) / 1_048_576)),
        ])
        FileHandle.standardOutput.write(Data(JSONWriter.bytes(report, style: .compact) + [0x0A]))
    }
}
