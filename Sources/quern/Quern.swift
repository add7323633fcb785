import ArgumentParser
import Foundation
import QuernPipelines
import QuernTensor

@main
struct Quern: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quern",
        abstract: "Turns files dropped into an inbox into AI results (chat, embeddings, image labels, transcripts).",
        version: QuernVersion.string,
        subcommands: [ServeCommand.self, RunCommand.self, TokenizeCommand.self, GenerateCommand.self, EmbedCommand.self, TranscribeCommand.self, BenchCommand.self, InfoCommand.self])
}

enum QuernVersion {
    static let string = "0.1.0"
}

/// Options every compute-running subcommand shares. Each also reads QUERN_*.
struct ComputeOptions: ParsableArguments {
    @Option(name: .long, help: "Compute threads for BLAS and Quern's kernels (default: QUERN_THREADS or every core).")
    var threads: Int?

    /// Loads OpenBLAS and applies the thread budget; a missing library is a
    /// clear error, not a crash.
    func prepare() throws -> BLASInfo {
        try BLAS.load()
        let environment = ProcessInfo.processInfo.environment["QUERN_THREADS"].flatMap(Int.init)
        ComputeThreads.configure(threads: threads ?? environment)
        return BLAS.info
    }
}

/// `--models`: where the default models live, for every subcommand that loads one.
struct ModelsOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Model directory (QUERN_MODELS, default ./models).", valueName: "dir"))
    var models: String?

    var directory: String { models ?? Environment.string("QUERN_MODELS") ?? "./models" }

    /// The model that serves `task`: `explicitPath` (a command's `--model`)
    /// when given, else the task's default folder, found through the registry.
    func locate(_ task: TaskName, explicitPath: String?) throws -> LocatedModel {
        try ModelRegistry.locate(task: task, modelsDirectory: directory, explicitPath: explicitPath)
    }
}

/// Which language model a command runs, shared by tokenize, generate and bench llm.
struct LanguageModelOptions: ParsableArguments {
    @Option(help: "A .gguf file or a model folder (default: the chat model in --models, smollm2-135m-instruct).")
    var model: String?

    @OptionGroup var models: ModelsOption

    /// `--model`, else the default model for chat or completion; either way
    /// one whose declared type the registry loads as a language model.
    func path(chat: Bool) throws -> String { try models.locate(chat ? .chat : .complete, explicitPath: model).declaration.loadPath }
}

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Shows the CPU features and the BLAS kernels Quern uses.")

    @OptionGroup var compute: ComputeOptions

    func run() throws {
        let info = try compute.prepare()
        print("quern \(QuernVersion.string)")
        print("cores available: \(ComputeThreads.availableCores), compute threads: \(ComputeThreads.count)")
        print("cpu features: \(CPUFeatures.current.names.joined(separator: " "))")
        print(info)
    }
}
