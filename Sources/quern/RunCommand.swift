import ArgumentParser
import Foundation
import QuernDaemon
import QuernJSON
import QuernPipelines

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Processes files once, as the daemon would, and prints one JSON result per line.",
        discussion: "Exit code 0 when every result is ok, 1 when any is an error.")

    @Argument(help: ArgumentHelp("Files to process.", valueName: "file"))
    var files: [String]

    @Flag(name: .customLong(DaemonOptions.pretty.name), help: ArgumentHelp(DaemonOptions.pretty))
    var pretty = false

    @OptionGroup var processing: ProcessingOptions
    @OptionGroup var compute: ComputeOptions

    func run() throws {
        // Every option is checked before anything is loaded.
        let sources = try OptionSources.withConfigurationFile(processing.commandLine, compute.commandLine)
        let settings = try ProcessingSettings(sources)
        let logger = LogSetup.bootstrap(try LogSetup.settings(sources))
        let processor = try processing.processor(settings, check: (.sizes, false))
        if !settings.diagnostic, !processor.registry.servedTasks.isEmpty {
            _ = try compute.prepare(sources)
        }
        let runner = SingleFileRunner(processor: processor, logger: logger)
        var allSucceeded = true
        for file in files {
            let document = runner.run(path: file)
            allSucceeded = allSucceeded && document.isSuccess
            var line = JSONWriter.bytes(document.json, style: pretty ? .pretty : .compact)
            line.append(0x0A)
            FileHandle.standardOutput.write(Data(line))
        }
        if !allSucceeded { throw ExitCode(1) }
    }
}
