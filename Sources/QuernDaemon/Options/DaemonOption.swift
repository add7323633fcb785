import Foundation
import QuernPipelines

/// The commands an option belongs to.
public enum DaemonCommand: String, Sendable, CaseIterable {
    case serve, run
}

/// One setting of `quern serve` and `quern run`: its flag, its `QUERN_*`
/// variable, its default and its help, declared once in `DaemonOptions`.
/// The command line wins over the environment, which wins over the default.
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
    let parser: OptionValueParser<Value>

    init(_ name: String, variable: String?, valueName: String?, summary: String, default defaultValue: Value, shown defaultText: String,
         commands: Set<DaemonCommand>, hidden: Bool = false, parser: OptionValueParser<Value>) {
        self.name = name
        self.variable = variable
        self.valueName = valueName
        self.summary = summary
        self.defaultValue = defaultValue
        self.defaultText = defaultText
        self.commands = commands
        self.isHidden = hidden
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

    /// The value from the command line, else the environment, else the default.
    public func resolve(_ sources: OptionSources) throws(DaemonOptionError) -> Value {
        if let text = sources.commandLine[name] {
            return try parse(text, variable: nil)
        }
        if let variable, let text = sources.environment[variable] {
            return try parse(text, variable: variable)
        }
        return defaultValue
    }

    func parse(_ text: String, variable: String?) throws(DaemonOptionError) -> Value {
        guard let value = parser.parse(text) else {
            throw DaemonOptionError(option: flag, variable: variable, value: text, expected: parser.expected)
        }
        return value
    }
}

/// What an invocation gave: command-line values by option name (a switch
/// that is on has the value "true") and the process environment.
public struct OptionSources: Sendable {
    public var commandLine: [String: String]
    public var environment: [String: String]

    public init(commandLine: [String: String?] = [:], environment: [String: String]) {
        self.commandLine = commandLine.compactMapValues { $0 }
        self.environment = environment
    }
}

/// A bad value for an option, from the command line or a `QUERN_*`
/// variable. `quern` prints the description and exits 1.
public struct DaemonOptionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The flag ("--threads").
    public let option: String
    /// The variable the value came from, nil when it was on the command line.
    public let variable: String?
    public let value: String
    public let expected: String

    /// Stable, for scripts and tests.
    public var code: String { "option.invalid_value" }

    public var description: String {
        let shown = String(reflecting: value)
        if let variable { return "\(variable)=\(shown) (for \(option)) is not valid: expected \(expected)" }
        return "\(option) \(shown) is not valid: expected \(expected)"
    }
}

/// Turns option text into a value, or nil; `expected` describes valid text.
struct OptionValueParser<Value: Sendable>: Sendable {
    let expected: String
    let parse: @Sendable (String) -> Value?

    /// The same text for an option whose default is nil (worked out at run time).
    var optional: OptionValueParser<Value?> {
        let parse = self.parse
        return OptionValueParser<Value?>(expected: expected) { text in parse(text).map(Optional.some) }
    }
}

extension OptionValueParser where Value == String {
    /// A directory or file path; only an empty one is refused.
    static var path: Self { Self(expected: "a path (not empty)") { $0.isEmpty ? nil : $0 } }

    static func choice(_ choices: [String]) -> Self {
        Self(expected: "one of " + choices.joined(separator: ", ")) { choices.contains($0) ? $0 : nil }
    }
}

extension OptionValueParser where Value == [String] {
    /// Existing folders separated by `:` (as in PATH; the command line joins
    /// a repeated flag that way), as real paths: symlinks and `..` resolved
    /// once, at start-up, so requests are checked against what they are.
    static var folderList: Self {
        Self(expected: "existing folders, separated by :") { text in
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
        return Self(expected: expected) { text in
            guard let value = Int(text), range.contains(value) else { return nil }
            return value
        }
    }

    /// Bytes, or a number with K, M, G or T (binary multiples): "2G", "1500M".
    static var size: Self {
        Self(expected: "a size above 0: bytes, or a number with K, M, G or T (e.g. 2G, 1500M)") { text in
            guard let bytes = byteCount(text), bytes > 0 else { return nil }
            return bytes
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
        return Self(expected: "a number of seconds \(lower) up to \(Int(maximumSeconds))") { text in
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
        Self(expected: "1, true, yes or on (0, false, no or off to leave it off)") { text in
            switch text.lowercased() {
            case "1", "true", "yes", "on": return true
            case "0", "false", "no", "off": return false
            default: return nil
            }
        }
    }
}
