import ArgumentParser
import Foundation
import QuernPipelines

/// Reads `QUERN_*` variables: every option can come from the environment
/// (systemd `Environment=` lines), the command line winning.
enum Environment {
    static func string(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }

    static func flag(_ name: String) -> Bool {
        guard let value = string(name)?.lowercased() else { return false }
        return ["1", "true", "yes", "on"].contains(value)
    }

    static func number<T: LosslessStringConvertible>(_ name: String, _ type: T.Type = T.self) throws -> T? {
        guard let text = string(name) else { return nil }
        guard let value = T(text) else { throw ValidationError("\(name)=\(text) is not a valid \(T.self)") }
        return value
    }
}

/// What `serve` and `run` share: models, limits, the per-file timeout, and
/// the diagnostic pipeline.
struct ProcessingOptions: ParsableArguments {
    @OptionGroup var models: ModelsOption

    @Option(name: .long, help: ArgumentHelp("Largest input file in bytes (QUERN_MAX_BYTES, default 268435456).", valueName: "n"))
    var maxBytes: Int?

    @Option(name: .long, help: ArgumentHelp("Largest image, width × height (QUERN_MAX_PIXELS, default 40000000).", valueName: "n"))
    var maxPixels: Int?

    @Option(name: .long, help: ArgumentHelp("Longest audio in seconds (QUERN_MAX_AUDIO_SECONDS, default 3600).", valueName: "s"))
    var maxAudioSeconds: Double?

    @Option(name: .long, help: ArgumentHelp("Longest text in characters (QUERN_MAX_TEXT_CHARS, default 1000000).", valueName: "n"))
    var maxTextChars: Int?

    @Option(name: .long, help: ArgumentHelp("What plain text asks for: chat, complete or embed (QUERN_TEXT_TASK, default chat).", valueName: "task"))
    var textTask: String?

    @Option(name: .long, help: ArgumentHelp("Seconds the preparation (decoding, tokenizing) and the model may each take per batch before the file gets a timeout error (QUERN_TIMEOUT, default 300).", valueName: "s"))
    var timeout: Double?

    @Flag(name: .long, help: ArgumentHelp("Replace every model by the diagnostic pipeline, which only counts bytes and lines (QUERN_DIAGNOSTIC_PIPELINE=1). For tests and overhead benchmarks.", visibility: .hidden))
    var diagnosticPipeline = false

    @Option(name: .long, help: ArgumentHelp("Artificial delay per file in the diagnostic pipeline, in ms (QUERN_DIAGNOSTIC_DELAY_MS).", visibility: .hidden))
    var diagnosticDelayMs: Int?

    var useDiagnosticPipeline: Bool { diagnosticPipeline || Environment.flag("QUERN_DIAGNOSTIC_PIPELINE") }

    func limits() throws -> InputLimits {
        var limits = InputLimits()
        if let value = try maxBytes ?? Environment.number("QUERN_MAX_BYTES") { limits.maxBytes = try positive(value, "--max-bytes") }
        if let value = try maxPixels ?? Environment.number("QUERN_MAX_PIXELS") { limits.maxPixels = try positive(value, "--max-pixels") }
        if let value = try maxAudioSeconds ?? Environment.number("QUERN_MAX_AUDIO_SECONDS", Double.self) {
            guard value > 0 else { throw ValidationError("--max-audio-seconds must be positive") }
            limits.maxAudioSeconds = value
        }
        if let value = try maxTextChars ?? Environment.number("QUERN_MAX_TEXT_CHARS") { limits.maxTextCharacters = try positive(value, "--max-text-chars") }
        return limits
    }

    func processor() throws -> FileProcessor {
        let taskText = textTask ?? Environment.string("QUERN_TEXT_TASK") ?? "chat"
        guard let task = TaskName(rawValue: taskText), [.chat, .complete, .embed].contains(task) else {
            throw ValidationError("--text-task must be chat, complete or embed, not \(taskText)")
        }
        let delay = try diagnosticDelayMs ?? Environment.number("QUERN_DIAGNOSTIC_DELAY_MS") ?? 0
        let inputLimits = try limits()
        let options = PipelineCatalog.Options(
            modelsDirectory: models.directory,
            diagnostic: useDiagnosticPipeline, diagnosticDelay: .milliseconds(max(0, delay)), limits: inputLimits)
        let registry: PipelineRegistry
        do {
            registry = try PipelineCatalog.makeRegistry(options)
        } catch {
            throw ValidationError("cannot load the models: \(error)")
        }
        let seconds = try timeout ?? Environment.number("QUERN_TIMEOUT", Double.self) ?? 300
        guard seconds > 0 else { throw ValidationError("--timeout must be positive") }
        return FileProcessor(
            registry: registry, inspector: InputInspector(limits: inputLimits, textTask: task), quernVersion: QuernVersion.string,
            timeout: .milliseconds(Int64(seconds * 1000)))
    }

    private func positive(_ value: Int, _ option: String) throws -> Int {
        guard value > 0 else { throw ValidationError("\(option) must be positive") }
        return value
    }
}
