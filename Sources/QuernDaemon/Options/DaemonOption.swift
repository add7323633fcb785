import Foundation
import QuernPipelines
import QuernQueue

/// The commands an option belongs to.
public enum DaemonCommand: String, Sendable, CaseIterable {
    case serve, run
}

/// What a running daemon does when SIGHUP brings a new value of an option.
public enum ReloadBehavior: String, Sendable {
    /// The new value takes effect at once.
    case applied
    /// The daemon keeps the old value and logs that a restart is needed.
    case restart
}

/// One setting of `quern serve` and `quern run`: its flag, its `QUERN_*`
/// variable, its key in the configuration file, its default and its help,
/// declared once in `DaemonOptions`. The command line wins over the
/// environment, which wins over the configuration file, which wins over the
/// default.
public struct DaemonOption<Value: Sendable>: Sendable {
    /// The long flag without its dashes ("max-bytes").
    public let name: String
    /// nil for an option the environment cannot set.
    public let variable: String?
    /// What `--help` shows for the value ("n", "s", "dir"); nil for a switch.
    public let valueName: String?
    /// What it does, one sentence without the variable and the default.
    public let summary: String
    /// For an optional `Value`, nil means the default is worked out at run
    /// time (`defaultText` says how).
    public let defaultValue: Value
    /// The default as help and docs/daemon.md show it.
    public let defaultText: String
    public let commands: Set<DaemonCommand>
    /// Left out of `--help` (tests and benchmarks only).
    public let isHidden: Bool
    /// What SIGHUP does with a changed value. Restart unless the daemon
    /// really applies it live (`Daemon.apply(reloaded:)`, the log settings).
    public let onReload: ReloadBehavior
    /// Whether the configuration file may set it (its key is `name`); only
    /// `--config` itself may not.
    public let isFileKey: Bool
    let parser: OptionValueParser<Value>

    init(_ name: String, variable: String?, valueName: String?, summary: String, default defaultValue: Value, shown defaultText: String,
         commands: Set<DaemonCommand>, hidden: Bool = false, onReload: ReloadBehavior = .restart, fileKey: Bool = true,
         parser: OptionValueParser<Value>) {
        self.name = name
        self.variable = variable
        self.valueName = valueName
        self.summary = summary
        self.defaultValue = defaultValue
        self.defaultText = defaultText
        self.commands = commands
        self.isHidden = hidden
        self.onReload = onReload
        self.isFileKey = fileKey
        self.parser = parser
    }

    public var flag: String { "--" + name }
    public var isSwitch: Bool { valueName == nil }

    /// The help line: the summary, then where else it can come from and its default.
    public var help: String {
        let variable = isSwitch ? self.variable.map { $0 + "=1" } : self.variable
        let sources = [variable, "default " + defaultText].compactMap { $0 }.joined(separator: ", ")
        return "\(summary) (\(sources))."
    }

    /// What a valid value looks like, for messages ("a whole number from 1 to 1024").
    public var expected: String { parser.expected }

    /// The value from the command line, else the environment, else the
    /// configuration file, else the default.
    public func resolve(_ sources: OptionSources) throws(DaemonOptionError) -> Value {
        switch sources.setting(of: name, variable: variable, fileKey: isFileKey, listSeparator: parser.listSeparator) {
        case .none:
            return defaultValue
        case let .some(setting):
            return try parse(setting)
        }
    }

    func parse(_ setting: OptionSetting) throws(DaemonOptionError) -> Value {
        guard let value = parser.parse(setting.text) else {
            throw DaemonOptionError(option: flag, origin: setting.origin, value: setting.shownValue, expected: parser.expected)
        }
        return value
    }
}

/// Where an option's value came from, as `quern config` and messages say it.
public enum OptionOrigin: Sendable, Equatable, CustomStringConvertible {
    case commandLine(flag: String)
    case environment(variable: String)
    case file(path: String, line: Int, key: String)
    case defaultValue

    public var description: String {
        switch self {
        case let .commandLine(flag): return "flag " + flag
        case let .environment(variable): return "environment " + variable
        case let .file(path, line, _): return "\(path):\(line)"
        case .defaultValue: return "default"
        }
    }
}

/// One option's text from the place that wins, and that place.
struct OptionSetting: Sendable {
    var text: String
    var origin: OptionOrigin
    /// As the user wrote it, for messages (TOML syntax for a file value).
    var shownValue: String
}

/// What an invocation gave: command-line values by option name (a switch
/// that is on has the value "true"), the process environment, and the
/// configuration file if one was read (`ConfigurationLoader`).
public struct OptionSources: Sendable {
    public var commandLine: [String: String]
    public var environment: [String: String]
    public var file: ConfigurationFile?

    public init(commandLine: [String: String?] = [:], environment: [String: String], file: ConfigurationFile? = nil) {
        self.commandLine = commandLine.compactMapValues { $0 }
        self.environment = environment
        self.file = file
    }

    /// The winning text for an option and where it came from; nil: the default.
    func setting(of name: String, variable: String?, fileKey: Bool, listSeparator: String?) -> OptionSetting? {
        if let text = commandLine[name] {
            return OptionSetting(text: text, origin: .commandLine(flag: "--" + name), shownValue: text)
        }
        if let variable, let text = environment[variable] {
            return OptionSetting(text: text, origin: .environment(variable: variable), shownValue: text)
        }
        if fileKey, let file, let entry = file.entry(name) {
            // An array is a list option's several values, joined as its
            // variable joins them; `ConfigurationLoader` refuses arrays for
            // other options before this is reached.
            let text: String
            if case let .array(values) = entry.value {
                text = values.map(\.optionText).joined(separator: listSeparator ?? ",")
            } else {
                text = entry.value.optionText
            }
            return OptionSetting(text: text, origin: .file(path: file.path, line: entry.line, key: name), shownValue: entry.value.tomlText)
        }
        return nil
    }
}

/// A bad value for an option, from the command line, a `QUERN_*` variable
/// or the configuration file. `quern` prints the description and exits 1.
public struct DaemonOptionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The flag ("--threads").
    public let option: String
    /// The variable the value came from, nil when it was on the command line
    /// or in the configuration file.
    public let variable: String?
    public let value: String
    public let expected: String
    /// Where the value came from.
    public let origin: OptionOrigin

    public init(option: String, origin: OptionOrigin, value: String, expected: String) {
        self.option = option
        self.origin = origin
        if case let .environment(variable) = origin { self.variable = variable } else { self.variable = nil }
        self.value = value
        self.expected = expected
    }

    /// Stable, for scripts and tests.
    public var code: String { "option.invalid_value" }

    public var description: String {
        let shown = String(reflecting: value)
        switch origin {
        case let .environment(variable):
            return "\(variable)=\(shown) (for \(option)) is not valid: expected \(expected)"
        case let .file(path, line, key):
            // The file's own syntax, as the user wrote it.
            return "\(path):\(line): key \"\(key)\": \(key) = \(value) (for \(option)) is not valid: expected \(expected)"
        case .commandLine, .defaultValue:
            return "\(option) \(shown) is not valid: expected \(expected)"
        }
    }
}

/// Turns option text into a value, or nil; `expected` describes valid text.
struct OptionValueParser<Value: Sendable>: Sendable {
    let expected: String
    /// A few valid texts, different from each other (for the precedence
    /// tests, which set an option in every source at once).
    let examples: [String]
    /// Set when the option takes several values: how its text joins them
    /// (the configuration file may then give an array).
    let listSeparator: String?
    let parse: @Sendable (String) -> Value?

    init(expected: String, examples: [String] = [], listSeparator: String? = nil, parse: @escaping @Sendable (String) -> Value?) {
        self.expected = expected
        self.examples = examples
        self.listSeparator = listSeparator
        self.parse = parse
    }

    /// The same text for an option whose default is nil (worked out at run time).
    var optional: OptionValueParser<Value?> {
        let parse = self.parse
        return OptionValueParser<Value?>(expected: expected, examples: examples, listSeparator: listSeparator) { text in parse(text).map(Optional.some) }
    }
}

extension OptionValueParser where Value == String {
    /// A directory or file path; only an empty one is refused.
    static var path: Self {
        Self(expected: "a path (not empty)", examples: ["/srv/quern/a", "/srv/quern/b", "/srv/quern/c"]) { $0.isEmpty ? nil : $0 }
    }

    static func choice(_ choices: [String]) -> Self {
        Self(expected: "one of " + choices.joined(separator: ", "), examples: choices) { choices.contains($0) ? $0 : nil }
    }
}

extension OptionValueParser where Value == QueueLocation {
    /// A `postgres://` URL without a password (`QueueLocation`).
    static var queueLocation: Self {
        Self(expected: "a postgres:// URL without a password, e.g. postgres://quern@db.example/quern?sslmode=require or postgres://quern@/quern?host=/run/postgresql",
             examples: ["postgres://a@/q?host=/tmp", "postgres://b@db/q", "postgres://c@db:5433/q?sslmode=require"]) { try? QueueLocation($0) }
    }
}

extension OptionValueParser where Value == [String] {
    /// Existing folders separated by `:` (as in PATH; the command line joins
    /// a repeated flag that way), as real paths: symlinks and `..` resolved
    /// once, at start-up, so requests are checked against what they are.
    static var folderList: Self {
        Self(expected: "existing folders, separated by :", examples: ["/", "/tmp", "/usr:/tmp"], listSeparator: ":") { text in
            var folders: [String] = []
            for part in text.split(separator: ":", omittingEmptySubsequences: false) {
                guard let real = TrainingDataFolders.realPath(String(part)) else { return nil }
                var isFolder: ObjCBool = false
                guard FileManager.default.fileExists(atPath: real, isDirectory: &isFolder), isFolder.boolValue else { return nil }
                if !folders.contains(real) { folders.append(real) }
            }
            return folders
        }
    }
}

extension OptionValueParser where Value == Int {
    static func wholeNumber(_ range: ClosedRange<Int>) -> Self {
        let upper = range.upperBound == Int.max ? "" : " to \(range.upperBound)"
        let expected = upper.isEmpty ? "a whole number of at least \(range.lowerBound)" : "a whole number from \(range.lowerBound)\(upper)"
        let examples = (0..<3).map { String(range.lowerBound + min($0, range.upperBound - range.lowerBound)) }
        return Self(expected: expected, examples: examples) { text in
            guard let value = Int(text), range.contains(value) else { return nil }
            return value
        }
    }

    /// Bytes, or a number with K, M, G or T (binary multiples): "2G", "1500M".
    static var size: Self {
        Self(expected: "a size above 0: bytes, or a number with K, M, G or T (e.g. 2G, 1500M)", examples: ["1G", "1500M", "3G"]) { text in
            guard let bytes = byteCount(text), bytes > 0 else { return nil }
            return bytes
        }
    }

    /// A size that may be 0 (turning a cache off).
    static var sizeOrZero: Self {
        Self(expected: "a size: bytes, or a number with K, M, G or T (e.g. 256M); 0 for none", examples: ["0", "64M", "1G"]) { text in
            if text == "0" { return 0 }
            return byteCount(text)
        }
    }

    static func byteCount(_ text: String) -> Int? {
        let multipliers: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        var digits = Substring(text.trimmingCharacters(in: .whitespaces))
        var multiplier = 1
        if let last = digits.last?.uppercased().first, let value = multipliers[last] {
            multiplier = value
            digits = digits.dropLast()
        }
        guard let number = Double(digits), number.isFinite, number >= 0, number * Double(multiplier) < Double(Int.max / 2) else { return nil }
        return Int(number * Double(multiplier))
    }
}

extension OptionValueParser where Value == Double {
    /// The longest a duration may be: far beyond any sensible setting, and
    /// small enough that its milliseconds fit a `Duration` without trapping.
    static let maximumSeconds = 1_000_000_000.0

    /// Seconds, finite and at most `maximumSeconds`; zero only when `allowingZero`.
    static func seconds(allowingZero: Bool) -> Self {
        let lower = allowingZero ? "from 0" : "above 0"
        return Self(expected: "a number of seconds \(lower) up to \(Int(maximumSeconds))", examples: ["1", "2.5", "30"]) { text in
            // Double("inf") and Double("nan") parse; neither is a duration.
            guard let value = Double(text), value.isFinite, value <= maximumSeconds, allowingZero ? value >= 0 : value > 0 else { return nil }
            return value
        }
    }
}

extension OptionValueParser where Value == Bool {
    /// A switch: on from its flag, or from the variable's 1/true/yes/on
    /// (0/false/no/off leave it off).
    static var onOff: Self {
        Self(expected: "1, true, yes or on (0, false, no or off to leave it off)", examples: ["true", "false", "true"]) { text in
            switch text.lowercased() {
            case "1", "true", "yes", "on": return true
            case "0", "false", "no", "off": return false
            default: return nil
            }
        }
    }
}
