import Foundation
import QuernPipelines

/// Finds and reads the configuration file and puts it beside the command
/// line and the environment: `--config FILE`, else `QUERN_CONFIG`, else
/// `/etc/quern/quern.toml` when it exists, else no file. Every key must be an
/// option's name and every value valid for its option — checked here, even
/// for a key a flag or variable overrides, so a broken file is found at the
/// start that reads it and not at the first start without that flag.
public enum ConfigurationLoader {
    public static let defaultPath = "/etc/quern/quern.toml"

    /// The sources `DaemonOption.resolve` reads, with the configuration file
    /// if there is one. `defaultPath` is a parameter for tests only.
    public static func sources(commandLine: [String: String?], environment: [String: String],
                               defaultPath: String = defaultPath) throws(ConfigurationError) -> OptionSources {
        var sources = OptionSources(commandLine: commandLine, environment: environment)
        let named: String?
        do {
            named = try DaemonOptions.config.resolve(sources)
        } catch {
            throw .option(error)
        }
        let path: String
        if let named {
            path = named
        } else if FileManager.default.fileExists(atPath: defaultPath) {
            path = defaultPath
        } else {
            return sources
        }
        let file: ConfigurationFile
        do {
            file = try ConfigurationFile.read(path: path)
            try check(file)
        } catch {
            throw .file(error)
        }
        sources.file = file
        // Every value in the file, whatever overrides it now.
        let fileOnly = OptionSources(environment: [:], file: file)
        for option in DaemonOptions.all where file.entry(option.name) != nil {
            do {
                try option.validate(fileOnly)
            } catch {
                throw .option(error)
            }
        }
        return sources
    }

    /// Keys are option names; arrays only for options that take several values.
    static func check(_ file: ConfigurationFile) throws(ConfigurationFileError) {
        for entry in file.entries {
            guard let option = DaemonOptions.all.first(where: { $0.name == entry.key }) else {
                let hint = suggestion(for: entry.key).map { " (did you mean \"\($0)\"?)" } ?? ""
                throw ConfigurationFileError(path: file.path, line: entry.line, key: entry.key, code: .unknownKey,
                                             message: "not an option\(hint); keys are the options' names as `quern serve --help` lists them, without the dashes")
            }
            guard option.isFileKey else {
                throw ConfigurationFileError(path: file.path, line: entry.line, key: entry.key, code: .unknownKey,
                                             message: "cannot be set in the configuration file itself: use \(option.flag) or \(option.variable ?? "the command line")")
            }
            if case let .array(values) = entry.value {
                guard option.listSeparator != nil else {
                    throw ConfigurationFileError(path: file.path, line: entry.line, key: entry.key, code: .invalidValue,
                                                 message: "takes one value, not an array: expected \(option.expected)")
                }
                if values.isEmpty {
                    throw ConfigurationFileError(path: file.path, line: entry.line, key: entry.key, code: .invalidValue,
                                                 message: "an empty array; leave the key out for the default (\(option.defaultText))")
                }
            }
        }
    }

    /// The option name closest to a mistyped key, if one is close.
    static func suggestion(for key: String) -> String? {
        let names = DaemonOptions.all.filter(\.isFileKey).map(\.name)
        let normalized = key.lowercased().replacingOccurrences(of: "_", with: "-")
        if names.contains(normalized) { return normalized }
        return ClosestName.suggestion(for: normalized, among: names)
    }
}

/// Why the options could not be read: a bad value (from any source) or a
/// configuration file that cannot be used. `quern` prints it and exits 1.
public enum ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    case option(DaemonOptionError)
    case file(ConfigurationFileError)

    public var description: String {
        switch self {
        case let .option(error): return error.description
        case let .file(error): return error.description
        }
    }

    /// Stable, for scripts and tests.
    public var code: String {
        switch self {
        case let .option(error): return error.code
        case let .file(error): return error.code.rawValue
        }
    }
}
