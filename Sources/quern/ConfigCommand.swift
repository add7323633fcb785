import ArgumentParser
import Foundation
import QuernDaemon

/// `quern config [--config FILE] [flags…]`: the configuration `serve` and
/// `run` would use with the same flags, environment and file — every
/// option, its value and where that came from. The flags are read from the
/// one option table (`DaemonOptions`), so an option added there is shown
/// and accepted here without more code.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Prints the effective configuration of serve and run: every option, its value, and where it came from.",
        discussion: """
            Takes every flag of serve and run (see their --help). Precedence: flag > environment (QUERN_*) > \
            configuration file (--config, QUERN_CONFIG, or \(ConfigurationLoader.defaultPath) when it exists) > default. \
            A bad value or a broken file is the same error serve would give (exit 1).
            """)

    @Argument(parsing: .captureForPassthrough, help: ArgumentHelp("Flags of serve and run, e.g. --config FILE --timeout 60.", valueName: "flags"))
    var flags: [String] = []

    func run() throws {
        // The flags are captured whole (they are the table's, not this
        // command's), so help is asked for here.
        if flags.contains(where: { $0 == "--help" || $0 == "-h" }) { throw CleanExit.helpRequest(self) }
        let commandLine = try Self.parse(flags)
        let sources = try ConfigurationLoader.sources(commandLine: commandLine, environment: ProcessInfo.processInfo.environment)
        for option in DaemonOptions.all { try option.validate(sources) }
        print(Self.render(sources))
    }

    /// `--name value`, `--name=value` and `--switch`, for the options of the
    /// table; a repeated list option (`--train-data-dir`) joins its values
    /// as its variable does.
    static func parse(_ arguments: [String]) throws -> [String: String?] {
        var values: [String: String?] = [:]
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            guard argument.hasPrefix("--"), argument.count > 2 else {
                throw ValidationError("\(argument.debugDescription) is not a flag of serve or run (quern config takes flags only)")
            }
            var name = String(argument.dropFirst(2))
            var value: String?
            if let equals = name.firstIndex(of: "=") {
                value = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            guard let option = DaemonOptions.all.first(where: { $0.name == name }) else {
                throw ValidationError("--\(name) is not an option of serve or run (see quern serve --help and quern run --help)")
            }
            if option.isSwitch {
                if value != nil { throw ValidationError("--\(name) is a switch and takes no value") }
                values[name] = "true"
                continue
            }
            if value == nil {
                guard index < arguments.count else { throw ValidationError("--\(name) needs a value: \(option.expected)") }
                value = arguments[index]
                index += 1
            }
            if let separator = option.listSeparator, let previous = values[name] ?? nil, let value {
                values[name] = previous + separator + value
            } else {
                values[name] = value
            }
        }
        return values
    }

    /// A table: option, value, where it came from. Hidden (test-only)
    /// options are listed only when set.
    static func render(_ sources: OptionSources) -> String {
        var rows: [[String]] = [["option", "value", "from"]]
        for option in DaemonOptions.all {
            let origin = option.origin(in: sources)
            if option.isHidden, origin == .defaultValue { continue }
            let value = option.name == DaemonOptions.config.name ? (sources.file?.path ?? "none") : option.effectiveText(in: sources)
            var from = origin.description
            if option.name == DaemonOptions.config.name, origin == .defaultValue {
                from = sources.file == nil ? "default: \(ConfigurationLoader.defaultPath) does not exist" : "default"
            }
            rows.append([option.name, value.isEmpty ? "\"\"" : value, from])
        }
        let widths = (0..<2).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row[0].padding(toLength: widths[0] + 2, withPad: " ", startingAt: 0) + row[1].padding(toLength: widths[1] + 2, withPad: " ", startingAt: 0) + row[2]
        }.joined(separator: "\n")
    }
}
