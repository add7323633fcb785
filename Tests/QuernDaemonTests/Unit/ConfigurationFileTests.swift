import Foundation
@testable import QuernDaemon
import QuernTestSupport
import Testing

/// The TOML subset Quern's configuration file is read with, and what the
/// loader checks: keys, arrays, values, where the file comes from.
@Suite struct ConfigurationFileTests {
    private func parse(_ text: String) throws(ConfigurationFileError) -> ConfigurationFile {
        try ConfigurationFile.parse(text, path: "/etc/quern/quern.toml")
    }

    private func parseError(_ text: String) -> ConfigurationFileError? {
        thrownError(ConfigurationFileError.self) { _ = try parse(text) }
    }

    @Test func readsTheSubsetAConfigurationNeeds() throws {
        let file = try parse("""
            # Quern
            inbox = "/srv/in box"   # spaces are fine in quotes
            outbox = '/srv/out\\literal'
            "max-memory" = "2G"
            timeout = 1_200
            settle = 0.5
            max-pixels = 0x10
            shutdown-grace = 1e1
            poll = true
            pretty = false
            train-data-dir = [
                "/a",   # first
                '/b',
            ]
            text-task = "embed\\u0021"

            """)
        let values = Dictionary(uniqueKeysWithValues: file.entries.map { ($0.key, $0.value) })
        #expect(values["inbox"] == .string("/srv/in box"))
        #expect(values["outbox"] == .string("/srv/out\\literal"))
        #expect(values["max-memory"] == .string("2G"))
        #expect(values["timeout"] == .integer("1200"))
        #expect(values["settle"] == .float("0.5"))
        #expect(values["max-pixels"] == .integer("16"))
        #expect(values["shutdown-grace"] == .float("1e1"))
        #expect(values["poll"] == .boolean(true))
        #expect(values["pretty"] == .boolean(false))
        #expect(values["train-data-dir"] == .array([.string("/a"), .string("/b")]))
        #expect(values["text-task"] == .string("embed!"))
        #expect(file.entry("inbox")?.line == 2)
        #expect(file.entry("train-data-dir")?.line == 11, "an array's line is its key's")
        #expect(file.entry("text-task")?.line == 15)
    }

    @Test func windowsLineEndingsAndAByteOrderMarkAreRead() throws {
        let file = try parse("\u{FEFF}timeout = 5\r\n# c\r\nsettle = 1\r\n")
        #expect(file.entries.map(\.key) == ["timeout", "settle"])
        #expect(file.entry("settle")?.line == 3)
    }

    @Test(arguments: [
        ("[serve]\ntimeout = 1\n", 1, nil as String?, ConfigurationFileError.Code.unsupported, "tables"),
        ("a.b = 1\n", 1, "a", .unsupported, "dotted keys"),
        ("\n\ntimeout = {s = 1}\n", 3, "timeout", .unsupported, "inline tables"),
        ("inbox = \"\"\"x\"\"\"\n", 1, "inbox", .unsupported, "multi-line strings"),
        ("when = 2026-12-03T10:00:00Z\n", 1, "when", .unsupported, "dates"),
        ("timeout = 1\n\ntimeout = 2\n", 3, "timeout", .duplicateKey, "first on line 1"),
        ("inbox = \"/srv\n", 1, "inbox", .syntax, "not closed"),
        ("timeout =\n", 1, "timeout", .syntax, "no value"),
        ("timeout = 1 2\n", 1, "timeout", .syntax, "unexpected text"),
        ("inbox = \"a\\qb\"\n", 1, "inbox", .syntax, "unknown escape"),
        ("timeout = soon\n", 1, "timeout", .syntax, "not a TOML value"),
        ("timeout = 012\n", 1, "timeout", .syntax, "not a TOML value"),
        ("x = [[1]]\n", 1, "x", .unsupported, "arrays of arrays"),
        ("x = [1,\n", 2, "x", .syntax, "not closed"),
        ("= 1\n", 1, nil, .syntax, "expected a key"),
    ])
    func whatItDoesNotReadIsAnErrorNamingTheLineAndKey(text: String, line: Int, key: String?, code: ConfigurationFileError.Code, words: String) throws {
        let error = try #require(parseError(text), "\(text.debugDescription) was accepted")
        #expect(error.line == line, "\(error)")
        #expect(error.key == key, "\(error)")
        #expect(error.code == code, "\(error)")
        #expect(error.description.contains(words), "\(error)")
        #expect(error.description.hasPrefix("/etc/quern/quern.toml:\(line): "), "\(error)")
    }

    // MARK: The loader

    private func file(_ text: String) throws -> (Scratch, String) {
        let scratch = try Scratch()
        let path = scratch.root.appendingPathComponent("quern.toml").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return (scratch, path)
    }

    private func load(_ commandLine: [String: String?] = [:], environment: [String: String] = [:], defaultPath: String = "/nonexistent/quern.toml")
        throws(ConfigurationError) -> OptionSources {
        try ConfigurationLoader.sources(commandLine: commandLine, environment: environment, defaultPath: defaultPath)
    }

    private func loadError(_ commandLine: [String: String?] = [:], environment: [String: String] = [:], defaultPath: String = "/nonexistent/quern.toml") -> ConfigurationError? {
        thrownError(ConfigurationError.self) { _ = try load(commandLine, environment: environment, defaultPath: defaultPath) }
    }

    @Test func anUnknownKeyIsNamedWithItsLineAndTheNearestOption() throws {
        let (scratch, path) = try file("timeout = 5\nmax_memory = \"2G\"\n")
        _ = scratch
        let error = try #require(loadError(["config": path]))
        #expect(error.code == "config.unknown_key")
        #expect(error.description.hasPrefix("\(path):2: key \"max_memory\""), "\(error)")
        #expect(error.description.contains("did you mean \"max-memory\""), "\(error)")
    }

    @Test func theFileCannotNameAnotherFile() throws {
        let (scratch, path) = try file("config = \"/etc/other.toml\"\n")
        _ = scratch
        let error = try #require(loadError(["config": path]))
        #expect(error.description.contains("--config"), "\(error)")
        #expect(error.description.contains(":1:"), "\(error)")
    }

    @Test func anArrayIsOnlyForOptionsThatTakeSeveralValues() throws {
        let (scratch, path) = try file("timeout = [1, 2]\n")
        _ = scratch
        let error = try #require(loadError(["config": path]))
        #expect(error.code == "config.invalid_value")
        #expect(error.description.contains("not an array"), "\(error)")

        let (listScratch, listPath) = try file("train-data-dir = [\"/\", \"/tmp\"]\n")
        _ = listScratch
        let sources = try load(["config": listPath])
        #expect(try DaemonOptions.trainDataDir.resolve(sources) == ["/", "/tmp"])
    }

    /// A bad value in the file is an error even when a flag overrides it
    /// now: the next start without the flag would fail.
    @Test func aBadValueNamesTheFileTheLineAndTheKeyEvenWhenOverridden() throws {
        let (scratch, path) = try file("# limits\ntimeout = \"abc\"\n")
        _ = scratch
        for commandLine in [["config": path], ["config": path, "timeout": "5"]] as [[String: String?]] {
            let error = try #require(loadError(commandLine))
            #expect(error.code == "option.invalid_value")
            #expect(error.description.hasPrefix("\(path):2: key \"timeout\": timeout = \"abc\" (for --timeout) is not valid: expected a number of seconds"), "\(error)")
        }
    }

    @Test func theFileComesFromTheFlagElseTheVariableElseTheDefaultPathWhenItExists() throws {
        let (scratch, path) = try file("timeout = 7\n")
        let other = scratch.root.appendingPathComponent("other.toml").path
        try Data("timeout = 8\n".utf8).write(to: URL(fileURLWithPath: other))

        #expect(try load(["config": path], environment: ["QUERN_CONFIG": other]).file?.path == path)
        #expect(try load(environment: ["QUERN_CONFIG": other]).file?.path == other)
        #expect(try load(defaultPath: path).file?.path == path, "the default path is read when it exists")
        #expect(try load().file == nil, "no file at the default path: no file, no error")
        #expect(try DaemonOptions.timeout.resolve(load(defaultPath: path)) == 7)

        let missing = try #require(loadError(["config": scratch.root.appendingPathComponent("missing.toml").path]))
        #expect(missing.code == "config.unreadable")
        #expect(missing.description.contains("No such file"), "\(missing)")
        let empty = try #require(loadError(environment: ["QUERN_CONFIG": ""]))
        #expect(empty.description.contains("QUERN_CONFIG"), "\(empty)")
        // /dev/null: an empty configuration, the way to ignore the default file.
        #expect(try load(["config": "/dev/null"], defaultPath: path).file?.entries.isEmpty == true)
    }

    // MARK: Precedence, for every option

    /// `key = value` for one option's example: a boolean for a switch, an
    /// array for a list option, a string otherwise (as a QUERN_* variable
    /// would hold it; the option parses the text).
    static func tomlLine(_ option: AnyDaemonOption, _ text: String) -> String {
        if option.isSwitch { return "\(option.name) = \(text)" }
        if let separator = option.listSeparator {
            let parts = text.components(separatedBy: separator).map { ConfigurationFile.quoted($0) }
            return "\(option.name) = [\(parts.joined(separator: ", "))]"
        }
        return "\(option.name) = \(ConfigurationFile.quoted(text))"
    }

    @Test func everyOptionHasExamplesForThePrecedenceTests() {
        for option in DaemonOptions.all {
            #expect(option.examples.count >= 2, "\(option.flag): give its OptionValueParser at least two different valid examples")
        }
    }

    /// For every option: a file value is overridden by the environment,
    /// which is overridden by a flag; each value is valid and reported with
    /// where it came from.
    @Test func aFlagWinsOverTheEnvironmentWhichWinsOverTheFileForEveryOption() throws {
        let options = DaemonOptions.all.filter { $0.isFileKey && $0.examples.count >= 2 }
        #expect(options.count == DaemonOptions.all.count - 1, "only --config is not a key")
        let example = { (option: AnyDaemonOption, layer: Int) in option.examples[layer % option.examples.count] }
        let text = options.map { Self.tomlLine($0, example($0, 0)) }.joined(separator: "\n") + "\n"
        let (scratch, path) = try file(text)
        _ = scratch
        let fileOnly = try load(["config": path])
        var environment: [String: String] = [:]
        for option in options { if let variable = option.variable { environment[variable] = example(option, 1) } }
        let withEnvironment = try load(["config": path], environment: environment)
        var flags: [String: String?] = ["config": path]
        for option in options { flags[option.name] = option.isSwitch ? "true" : example(option, 2) }
        let withFlags = try load(flags, environment: environment)

        for (index, option) in options.enumerated() {
            let shown = { (text: String) in option.isSwitch ? (text == "true" ? "on" : "off") : text }
            try option.validate(fileOnly)
            #expect(option.origin(in: fileOnly) == .file(path: path, line: index + 1, key: option.name), "\(option.flag)")
            #expect(option.effectiveText(in: fileOnly) == shown(example(option, 0)), "\(option.flag)")

            try option.validate(withEnvironment)
            if let variable = option.variable {
                #expect(option.origin(in: withEnvironment) == .environment(variable: variable), "\(option.flag)")
                #expect(option.effectiveText(in: withEnvironment) == shown(example(option, 1)), "\(option.flag)")
            } else {
                #expect(option.origin(in: withEnvironment) == .file(path: path, line: index + 1, key: option.name), "\(option.flag) has no variable")
            }

            try option.validate(withFlags)
            #expect(option.origin(in: withFlags) == .commandLine(flag: option.flag), "\(option.flag)")
            #expect(option.effectiveText(in: withFlags) == shown(option.isSwitch ? "true" : example(option, 2)), "\(option.flag)")
        }
        // The typed values follow: one of each kind.
        #expect(try DaemonOptions.timeout.resolve(fileOnly) == 1)
        #expect(try DaemonOptions.timeout.resolve(withEnvironment) == 2.5)
        #expect(try DaemonOptions.timeout.resolve(withFlags) == 30)
        #expect(try DaemonOptions.poll.resolve(fileOnly) == true)
        #expect(try DaemonOptions.poll.resolve(withEnvironment) == false)
        #expect(try DaemonOptions.logLevel.resolve(withEnvironment) == .debug)
        #expect(try DaemonOptions.maxMemory.resolve(fileOnly) == 1 << 30)
        #expect(try DaemonOptions.trainDataDir.resolve(withFlags) == ["/usr", "/tmp"])
    }
}
