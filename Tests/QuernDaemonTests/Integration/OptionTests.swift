import Foundation
import QuernDaemon
import QuernTestSupport
import Testing

extension Integration {
    /// Every `serve`/`run` option through the real binary: a bad value, on
    /// the command line or in its variable, exits 1 naming the option (and
    /// the variable), before anything is loaded; `--help` shows each default.
    @Suite struct Options {
        /// Text no option accepts: an empty path, or letters where a number
        /// or one of a few words is expected.
        static func badValue(for option: AnyDaemonOption) -> String {
            option.valueName == "dir" || option.valueName == "file" ? "" : "zz"
        }

        /// The command line around the option under test: a file for `run`
        /// (never reached), scratch directories for `serve` (so a value that
        /// were wrongly accepted would start a harmless diagnostic daemon,
        /// stopped by the timeout).
        static func arguments(_ command: DaemonCommand, testing option: AnyDaemonOption, scratch: Scratch) -> [String] {
            switch command {
            case .run:
                return ["run", scratch.root.appendingPathComponent("never-read.txt").path]
            case .serve:
                var arguments = ["serve"]
                if option.name != DaemonOptions.diagnosticPipeline.name { arguments.append(DaemonOptions.diagnosticPipeline.flag) }
                if option.name != DaemonOptions.inbox.name { arguments += ["--inbox", scratch.inbox.path] }
                if option.name != DaemonOptions.outbox.name { arguments += ["--outbox", scratch.outbox.path] }
                return arguments
            }
        }

        @Test(arguments: DaemonCommand.allCases)
        func aBadFlagValueExits1NamingTheOption(command: DaemonCommand) throws {
            let scratch = try Scratch()
            for option in DaemonOptions.all where option.commands.contains(command) && !option.isSwitch {
                let run = try QuernInvocation.run(Self.arguments(command, testing: option, scratch: scratch) + [option.flag, Self.badValue(for: option)], timeout: 20)
                #expect(run.status == 1, "\(command) \(option.flag): \(run.standardError)")
                #expect(run.standardError.contains(option.flag), "\(command) \(option.flag): \(run.standardError)")
                #expect(run.standardError.contains(option.expected), "\(command) \(option.flag): \(run.standardError)")
            }
        }

        @Test(arguments: DaemonCommand.allCases)
        func aBadVariableValueExits1NamingTheVariableAndTheOption(command: DaemonCommand) throws {
            let scratch = try Scratch()
            for option in DaemonOptions.all where option.commands.contains(command) {
                guard let variable = option.variable else { continue }
                let value = option.isSwitch ? "maybe" : Self.badValue(for: option)
                let run = try QuernInvocation.run(Self.arguments(command, testing: option, scratch: scratch), environment: [variable: value], timeout: 20)
                #expect(run.status == 1, "\(command) \(variable)=\(value): \(run.standardError)")
                #expect(run.standardError.contains(variable) && run.standardError.contains(option.flag),
                        "\(command) \(variable)=\(value): \(run.standardError)")
            }
        }

        /// Also for the other commands that take `--threads` and `--models`.
        @Test(arguments: [["info"], ["embed", "hello"], ["transcribe", "x.wav"], ["generate", "hi"], ["tokenize", "hi"], ["bench", "llm"]])
        func sharedOptionsAreCheckedTheSameWayEverywhere(command: [String]) throws {
            if command != ["info"], command != ["tokenize", "hi"] {
                let threads = try QuernInvocation.run(command + ["--threads", "0"])
                #expect(threads.status == 1, "\(command): \(threads.standardError)")
                #expect(threads.standardError.contains("--threads"), "\(command): \(threads.standardError)")
            }
            if command != ["info"] {
                let models = try QuernInvocation.run(command, environment: ["QUERN_MODELS": ""])
                #expect(models.status == 1, "\(command): \(models.standardError)")
                #expect(models.standardError.contains("QUERN_MODELS"), "\(command): \(models.standardError)")
            }
        }

        @Test(arguments: DaemonCommand.allCases)
        func helpShowsEveryOptionWithItsVariableAndDefault(command: DaemonCommand) throws {
            let run = try QuernInvocation.run([command.rawValue, "--help"])
            #expect(run.status == 0)
            // Help wraps lines; compare with runs of white space collapsed.
            let help = run.standardOutput.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            for option in DaemonOptions.all where option.commands.contains(command) {
                if option.isHidden {
                    #expect(!help.contains(option.flag), "\(option.flag) is hidden")
                    continue
                }
                #expect(help.contains(option.flag), "\(command) --help lacks \(option.flag)")
                if let variable = option.variable { #expect(help.contains(variable), "\(command) --help lacks \(variable)") }
                #expect(help.contains("default " + option.defaultText), "\(command) --help lacks \(option.flag)'s default \(option.defaultText)")
            }
        }
    }
}
