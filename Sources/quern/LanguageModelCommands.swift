import ArgumentParser
import Foundation
import QuernModels
import QuernTensor

/// `quern tokenize`: the token ids a model gives for a text, for debugging prompts.
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize", abstract: "Prints the token ids a language model's tokenizer gives for a text.")

    @OptionGroup var languageModel: LanguageModelOptions

    @Flag(help: "Treat special-token text such as <|im_start|> as plain text.")
    var noSpecial = false

    @Flag(help: "Print one line per token: id and its text.")
    var pieces = false

    @Argument(help: "The text (default: read standard input).")
    var text: String?

    func run() throws {
        try BLAS.load()
        let loaded = try LanguageModelLoader.loadTokenizer(path: languageModel.path(chat: false))
        let input = text ?? String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        let ids = loaded.encode(input, parseSpecial: !noSpecial)
        if pieces {
            for id in ids { print(id, String(reflecting: loaded.decode([id]))) }
        } else {
            print(ids.map(String.init).joined(separator: " "))
        }
    }
}

/// `quern generate`: runs the language model on a prompt and prints the text.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate", abstract: "Generates text with a language model (a raw prompt, or --chat for one user message).")

    @OptionGroup var languageModel: LanguageModelOptions

    @Flag(help: "Render the text as one user message through the model's chat template.")
    var chat = false

    @Option(name: .customLong("max-tokens")) var maxTokens = 128
    @Option var temperature: Float = 0
    @Option var seed: UInt64 = 0

    @OptionGroup var compute: ComputeOptions

    @Argument(help: "The prompt.")
    var prompt: String

    func run() throws {
        _ = try compute.prepare()
        let loaded = try LanguageModelLoader.load(path: languageModel.path(chat: chat))
        // A raw prompt is the operator's own: special-token text in it counts.
        // A chat message is content, tokenized as text inside the template.
        var promptTokens = loaded.tokens(for: prompt)
        if chat {
            guard let template = loaded.chatTemplate else { throw ValidationError("\(loaded.name) has no chat template Quern recognises") }
            promptTokens = loaded.tokens(forChat: [ChatMessage(role: "user", content: prompt)], template: template)
        }
        var sampling = SamplingParameters()
        sampling.temperature = temperature
        sampling.seed = seed
        sampling.maxTokens = maxTokens
        let output = try loaded.generator.generate(prompt: promptTokens, sampling: sampling, onText: { piece in
            FileHandle.standardOutput.write(Data(piece.utf8))
        })
        print("")
        FileHandle.standardError.write(Data(String(format: "[%d prompt tokens at %.1f tok/s, %d generated at %.1f tok/s, finish: %@]\n",
            output.promptTokens, output.promptTokensPerSecond, output.tokens.count, output.generationTokensPerSecond,
            output.finishReason.rawValue).utf8))
    }
}
