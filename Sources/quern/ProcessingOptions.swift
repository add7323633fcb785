import ArgumentParser
import Foundation
import QuernDaemon
import QuernPipelines

extension ArgumentHelp {
    /// The help line `DaemonOptions` declares for `option`, with its variable and default.
    init<Value>(_ option: DaemonOption<Value>) {
        self.init(option.help, valueName: option.valueName, visibility: option.isHidden ? .hidden : .default)
    }
}

extension OptionSources {
    /// The command-line values of the given option groups, and this process's
    /// environment (for the commands other than serve and run, which read no
    /// configuration file).
    init(_ groups: [String: String?]...) {
        self.init(commandLine: Self.merged(groups), environment: ProcessInfo.processInfo.environment)
    }

    /// `serve`'s and `run`'s sources: the given option groups, this
    /// process's environment and the configuration file (`--config`,
    /// `QUERN_CONFIG`, or /etc/quern/quern.toml when it exists).
    static func withConfigurationFile(_ groups: [String: String?]...) throws(ConfigurationError) -> OptionSources {
        try ConfigurationLoader.sources(commandLine: merged(groups), environment: ProcessInfo.processInfo.environment)
    }

    static func merged(_ groups: [[String: String?]]) -> [String: String?] {
        var commandLine: [String: String?] = [:]
        for group in groups { commandLine.merge(group) { _, new in new } }
        return commandLine
    }
}

/// What `serve` and `run` share: models, limits, the per-batch timeout, the
/// log level and the diagnostic pipeline. Values stay text here: they are
/// checked by `DaemonOptions`, so a bad one is the same error (exit 1, the
/// option named) whether it came from a flag or a `QUERN_*` variable.
struct ProcessingOptions: ParsableArguments {
    private typealias O = DaemonOptions

    @OptionGroup var models: ModelsOption

    @Option(name: .customLong(O.maxBytes.name), help: ArgumentHelp(O.maxBytes))
    var maxBytes: String?

    @Option(name: .customLong(O.maxPixels.name), help: ArgumentHelp(O.maxPixels))
    var maxPixels: String?

    @Option(name: .customLong(O.maxAudioSeconds.name), help: ArgumentHelp(O.maxAudioSeconds))
    var maxAudioSeconds: String?

    @Option(name: .customLong(O.maxTextChars.name), help: ArgumentHelp(O.maxTextChars))
    var maxTextChars: String?

    @Option(name: .customLong(O.textTask.name), help: ArgumentHelp(O.textTask))
    var textTask: String?

    @Option(name: .customLong(O.timeout.name), help: ArgumentHelp(O.timeout))
    var timeout: String?

    @Option(name: .customLong(O.config.name), help: ArgumentHelp(O.config))
    var config: String?

    @Option(name: .customLong(O.logLevel.name), help: ArgumentHelp(O.logLevel))
    var logLevel: String?

    @Option(name: .customLong(O.logFormat.name), help: ArgumentHelp(O.logFormat))
    var logFormat: String?

    @Option(name: .customLong(O.logFile.name), help: ArgumentHelp(O.logFile))
    var logFile: String?

    @Flag(name: .customLong(O.diagnosticPipeline.name), help: ArgumentHelp(O.diagnosticPipeline))
    var diagnosticPipeline = false

    @Option(name: .customLong(O.diagnosticDelayMs.name), help: ArgumentHelp(O.diagnosticDelayMs))
    var diagnosticDelayMs: String?

    @Option(name: .customLong(O.trainDataDir.name), help: ArgumentHelp(O.trainDataDir))
    var trainDataDir: [String] = []

    @Option(name: .customLong(O.conversations.name), help: ArgumentHelp(O.conversations))
    var conversations: String?

    @Option(name: .customLong(O.conversationCache.name), help: ArgumentHelp(O.conversationCache))
    var conversationCache: String?

    @Option(name: .customLong(O.precision.name), help: ArgumentHelp(O.precision))
    var precision: String?

    var commandLine: [String: String?] {
        models.commandLine.merging([
            O.maxBytes.name: maxBytes, O.maxPixels.name: maxPixels, O.maxAudioSeconds.name: maxAudioSeconds,
            O.maxTextChars.name: maxTextChars, O.textTask.name: textTask, O.timeout.name: timeout, O.config.name: config,
            O.logLevel.name: logLevel, O.logFormat.name: logFormat, O.logFile.name: logFile,
            O.diagnosticPipeline.name: diagnosticPipeline ? "true" : nil, O.diagnosticDelayMs.name: diagnosticDelayMs,
            O.conversations.name: conversations, O.conversationCache.name: conversationCache, O.precision.name: precision,
            // A repeated flag becomes one list, as the variable writes it.
            O.trainDataDir.name: trainDataDir.isEmpty ? nil : trainDataDir.joined(separator: ":"),
        ]) { _, new in new }
    }

    /// Loads the models (`--models`, or the diagnostic pipeline) and the
    /// steps every file goes through. `check` first refuses a models folder
    /// that is missing, unreadable or holds a damaged default model
    /// (`ModelsFolderCheck`; the diagnostic pipeline needs no models).
    func processor(_ settings: ProcessingSettings, check: (depth: ModelsFolderCheck.Depth, requireAny: Bool)? = nil) throws -> FileProcessor {
        if let check, !settings.diagnostic {
            do throws(ModelsFolderCheck.Failure) {
                try ModelsFolderCheck.run(modelsDirectory: settings.modelsDirectory, depth: check.depth, requireAny: check.requireAny)
            } catch {
                // Exit 1 with the reason, as other start-up failures (not the usage text of a bad flag).
                FileHandle.standardError.write(Data("quern: cannot start: \(error.message)\n".utf8))
                throw ExitCode(1)
            }
        }
        let registry: PipelineRegistry
        do {
            var options = settings.catalogOptions
            options.conversations = try settings.conversations()
            registry = try PipelineCatalog.makeRegistry(options)
        } catch {
            throw ValidationError("cannot load the models: \(error)")
        }
        return FileProcessor(registry: registry, inspector: settings.inspector, quernVersion: QuernVersion.string, timeout: settings.timeout)
    }
}
