import Foundation
import QuernDaemon
import QuernPipelines
import QuernTestSupport
import Testing

@Suite struct DaemonOptionsTests {
    private typealias O = DaemonOptions

    private func sources(_ commandLine: [String: String?] = [:], environment: [String: String] = [:]) -> OptionSources {
        OptionSources(commandLine: commandLine, environment: environment)
    }

    private func failure(_ body: () throws -> Void) -> DaemonOptionError? { thrownError(DaemonOptionError.self, body) }

    static var docs: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("docs/daemon.md")
    }

    @Test func namesAndVariablesAreUniqueAndFollowOnePattern() {
        #expect(Set(O.all.map(\.name)).count == O.all.count)
        for option in O.all {
            guard let variable = option.variable else { continue }
            #expect(variable == "QUERN_" + option.name.uppercased().replacingOccurrences(of: "-", with: "_"), "\(option.flag) is read from \(variable)")
            #expect(option.help.contains(variable), "\(option.flag)'s help does not name \(variable)")
            #expect(option.help.contains("default " + option.defaultText), "\(option.flag)'s help does not show its default")
        }
    }

    @Test func defaultsAreTheLibrariesOwn() throws {
        let settings = try ProcessingSettings(sources())
        #expect(settings.limits == InputLimits())
        #expect(settings.timeout == .seconds(DaemonConfiguration.defaultTimeoutSeconds))
        #expect(settings.textTask == .chat)
        #expect(settings.threads == nil)
        #expect(settings.modelsDirectory == "./models")
        #expect(!settings.diagnostic)

        let configuration = try DaemonConfiguration(sources(), timeout: settings.timeout)
        let plain = DaemonConfiguration(layout: DaemonLayout(inbox: "./inbox", outbox: "./outbox", work: nil, done: nil, failed: nil))
        #expect(configuration.layout == plain.layout)
        #expect(configuration.pollInterval == plain.pollInterval)
        #expect(configuration.settle == plain.settle)
        #expect(configuration.shutdownGrace == plain.shutdownGrace)
        #expect(configuration.maxAttempts == plain.maxAttempts)
        #expect(configuration.timeout == plain.timeout)
        #expect(configuration.maxMemory == nil)
        #expect(configuration.watchMode == .automatic)
        #expect(O.maxBytes.help.contains("268435456 = 256 MiB"))
    }

    @Test func theCommandLineWinsOverTheEnvironment() throws {
        let both = sources([O.threads.name: "3", O.poll.name: nil], environment: ["QUERN_THREADS": "5", "QUERN_POLL": "yes", "QUERN_ARCHIVE": "/srv/archive"])
        #expect(try O.threads.resolve(both) == 3)
        #expect(try O.poll.resolve(both))
        let configuration = try DaemonConfiguration(both, timeout: .seconds(1))
        #expect(configuration.watchMode == .polling)
        #expect(configuration.layout.done == Array("/srv/archive/done".utf8))
        #expect(configuration.layout.failed == Array("/srv/archive/failed".utf8))
        #expect(try O.maxMemory.resolve(sources([O.maxMemory.name: "1500M"])) == 1500 << 20)
        #expect(try O.maxMemory.resolve(sources(environment: ["QUERN_MAX_MEMORY": "2G"])) == 2 << 30)
    }

    @Test func aBadValueNamesTheOptionAndWhereItCameFrom() throws {
        let flag = try #require(failure { _ = try O.threads.resolve(sources([O.threads.name: "zz"])) })
        #expect(flag.option == "--threads")
        #expect(flag.variable == nil)
        #expect(flag.code == "option.invalid_value")
        #expect(flag.description.hasPrefix("--threads \"zz\" is not valid"))

        let variable = try #require(failure { _ = try O.timeout.resolve(sources(environment: ["QUERN_TIMEOUT": "abc"])) })
        #expect(variable.variable == "QUERN_TIMEOUT")
        #expect(variable.description.contains("QUERN_TIMEOUT=\"abc\""))
        #expect(variable.description.contains("--timeout"))
    }

    @Test(arguments: [
        (O.timeout.name, ["inf", "nan", "-1", "0", "1e10", ""]),
        (O.settle.name, ["-0.5", "soon"]),
        (O.threads.name, ["0", "1025", "2.5", " 2"]),
        (O.maxBytes.name, ["0", "-5", "1K"]),
        (O.maxMemory.name, ["0", "2GiB", "lots", "-1G"]),
        (O.textTask.name, ["classify", "Chat"]),
        (O.logLevel.name, ["verbose"]),
        (O.poll.name, ["maybe", ""]),
        (O.inbox.name, [""]),
        (O.diagnosticDelayMs.name, ["-1"]),
        (O.trainDataDir.name, ["", "/nonexistent-quern-folder", "/etc/passwd", "/tmp:", ":/tmp"]),
    ])
    func valuesOutsideTheirRangeAreRefused(name: String, values: [String]) throws {
        let option = try #require(O.all.first { $0.name == name })
        for value in values {
            let commandLine = sources([name: value])
            let environment = sources(environment: [option.variable ?? "": value])
            #expect(failure { _ = try ProcessingSettings(commandLine); _ = try DaemonConfiguration(commandLine, timeout: .seconds(1)) } != nil,
                    "\(option.flag) \(String(reflecting: value)) was accepted")
            #expect(failure { _ = try ProcessingSettings(environment); _ = try DaemonConfiguration(environment, timeout: .seconds(1)) } != nil,
                    "\(option.variable ?? "") \(String(reflecting: value)) was accepted")
        }
    }

    @Test func valuesAtTheEdgesAreAccepted() throws {
        #expect(try O.settle.resolve(sources([O.settle.name: "0"])) == 0)
        #expect(try O.timeout.resolve(sources([O.timeout.name: "0.25"])) == 0.25)
        #expect(try O.threads.resolve(sources([O.threads.name: "1024"])) == 1024)
        #expect(try O.poll.resolve(sources(environment: ["QUERN_POLL": "off"])) == false)
        #expect(try O.textTask.resolve(sources([O.textTask.name: "embed"])) == .embed)
        #expect(try O.diagnosticDelayMs.resolve(sources([O.diagnosticDelayMs.name: "0"])) == 0)
    }

    /// Training folders are real paths, resolved once at start-up; none by default.
    @Test func trainingDataFoldersAreResolvedAtStartUp() throws {
        #expect(try ProcessingSettings(sources()).trainingData.isEmpty)
        let root = try SafetensorsWriter.folder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/a/b", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root + "/link", withDestinationPath: root + "/a")
        let real = try #require(TrainingDataFolders.realPath(root))
        let settings = try ProcessingSettings(sources(environment: ["QUERN_TRAIN_DATA_DIR": "\(root)/link:\(root)/a/b/..:\(root)/a/b"]))
        #expect(settings.trainingData.folders == [real + "/a", real + "/a/b"], "symlinks and .. resolved, duplicates dropped")
        #expect(settings.inspector.trainingData == settings.trainingData)
    }

    /// docs/daemon.md's options table is `DaemonOptions.markdownTable`,
    /// character for character; the hidden options are described in its text.
    @Test func theDocsListEveryOptionAsTheTableDeclaresIt() throws {
        let document = try String(contentsOf: Self.docs, encoding: .utf8)
        let begin = "<!-- options table: generated from DaemonOptions.markdownTable -->\n"
        let end = "<!-- end of options table -->"
        let start = try #require(document.range(of: begin), "docs/daemon.md has no options table marker")
        let stop = try #require(document.range(of: end, range: start.upperBound..<document.endIndex))
        let table = String(document[start.upperBound..<stop.lowerBound])
        #expect(table == O.markdownTable, "replace the table in docs/daemon.md with:\n\(O.markdownTable)")
        for option in O.all where option.isHidden {
            #expect(document.contains("`\(option.flag)"), "docs/daemon.md does not describe \(option.flag)")
            if let variable = option.variable { #expect(document.contains(variable), "docs/daemon.md does not name \(variable)") }
        }
    }
}
