import ArgumentParser
import Foundation
import QuernDaemon
import QuernPipelines
import QuernTensor

@main
struct Quern: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quern",
        abstract: "Turns files dropped into an inbox into AI results (chat, embeddings, image labels, transcripts).",
        version: QuernVersion.string,
        subcommands: [ServeCommand.self, RunCommand.self, ConfigCommand.self, ModelsCommand.self, TokenizeCommand.self, GenerateCommand.self, EmbedCommand.self, TranscribeCommand.self, TrainCommand.self, EvaluateCommand.self, BenchCommand.self, InfoCommand.self, StatusCommand.self, CancelCommand.self, QueueCommand.self])
}

enum QuernVersion {
    static let string = QuernRelease.version
}

/// `--threads`, for every compute-running subcommand (`DaemonOptions.threads`).
struct ComputeOptions: ParsableArguments {
    @Option(name: .customLong(DaemonOptions.threads.name), help: ArgumentHelp(DaemonOptions.threads))
    var threads: String?

    var commandLine: [String: String?] { [DaemonOptions.threads.name: threads] }

    /// Loads OpenBLAS and applies the thread budget (from `sources` when
    /// given: serve and run read the configuration file too); a missing
    /// library is a clear error, not a crash. Caps the malloc arenas at one,
    /// as `serve` does, so that one-shot commands and the benchmarks built on
    /// them hold the memory the daemon would.
    func prepare(_ sources: OptionSources? = nil) throws -> BLASInfo {
        Heap.limitArenas(to: 1, unlessSetIn: ProcessInfo.processInfo.environment)
        let budget = try DaemonOptions.threads.resolve(sources ?? OptionSources(commandLine))
        try BLAS.load()
        ComputeThreads.configure(threads: budget)
        return BLAS.info
    }
}

/// `--models`: where the default models live, for every subcommand that
/// loads one (`DaemonOptions.models`).
struct ModelsOption: ParsableArguments {
    @Option(name: .customLong(DaemonOptions.models.name), help: ArgumentHelp(DaemonOptions.models))
    var models: String?

    var commandLine: [String: String?] { [DaemonOptions.models.name: models] }

    func directory() throws -> String { try DaemonOptions.models.resolve(OptionSources(commandLine)) }

    /// The model that serves `task`: `explicitPath` (a command's `--model`)
    /// when given, else the task's default folder, found through the registry.
    func locate(_ task: TaskName, explicitPath: String?) throws -> LocatedModel {
        try ModelRegistry.locate(task: task, modelsDirectory: try directory(), explicitPath: explicitPath)
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
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Shows the CPU features, the CPU the binary was built for and the BLAS kernels Quern uses.")

    @OptionGroup var compute: ComputeOptions

    func run() throws {
        let info = try compute.prepare()
        print("quern \(QuernVersion.string)")
        let quota = ComputeThreads.cgroupCPULimit.map { "cgroup cpu.max allows \($0)" } ?? "no cgroup CPU quota"
        print("cores available: \(ComputeThreads.availableCores) (affinity mask, \(quota)), compute threads: \(ComputeThreads.count)")
        print("cpu features: \(CPUFeatures.current.names.joined(separator: " "))")
        let required = BuildBaseline.requiredFeatures
        print("built for: \(BuildBaseline.targetCPU) (needs \(required.isEmpty ? "no extension beyond x86-64" : required.joined(separator: " ")))")
        print(info)
        let bfloat16Speed = Precision.bfloat16IsNative ? "native, about twice float32's rate" : "emulated with the native path's results, slower than float32; prefer float32 on this CPU"
        print("bfloat16 products (--precision, \"precision\"): \(Precision.bfloat16Path) — \(bfloat16Speed)")
    }
}
