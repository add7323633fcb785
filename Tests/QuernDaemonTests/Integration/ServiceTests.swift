import Foundation
import QuernDaemon
import QuernTestSupport
import Testing

extension Integration {
    /// Quern as a systemd service, through the real binary: notifications,
    /// signals, the configuration file and the log formats.
    @Suite struct Service {
        private func configFile(_ scratch: Scratch, _ text: String) throws -> String {
            let path = scratch.root.appendingPathComponent("quern.toml").path
            // Write-then-rename, as an editor or config management does.
            let staged = path + ".new"
            try Data(text.utf8).write(to: URL(fileURLWithPath: staged))
            guard rename(staged, path) == 0 else { throw HarnessError("rename failed") }
            return path
        }

        private func waitForServing(_ daemon: DaemonProcess) async -> Bool {
            await eventually(timeout: 15) { daemon.log.contains("serving") || !daemon.process.isRunning }
                && daemon.process.isRunning
        }

        // MARK: systemd notifications

        @Test func aNotifySocketReceivesReadyStatusWatchdogAndStoppingInOrder() async throws {
            let scratch = try Scratch()
            let socket = try NotifySocket(path: scratch.root.appendingPathComponent("notify.sock").path)
            let daemon = try DaemonProcess(scratch: scratch, environment: ["NOTIFY_SOCKET": socket.name, "WATCHDOG_USEC": "2000000"])
            #expect(await socket.waitFor("READY=1", timeout: 15), "\(daemon.log)")
            #expect(await socket.waitFor("WATCHDOG=1", timeout: 5), "\(socket.messages)")
            try scratch.drop("one.txt", text: "hello\n")
            #expect(await eventually(timeout: 10) { scratch.resultCount == 1 })
            // STATUS= follows what is done.
            #expect(await eventually(timeout: 10) {
                socket.drain()
                return socket.messages.contains("STATUS=Serving: 0 queued, 0 running, 1 done, 0 failed")
            }, "\(socket.messages)")
            #expect(await eventually(timeout: 5) {
                socket.drain()
                return socket.messages.filter { $0 == "WATCHDOG=1" }.count >= 2
            }, "WATCHDOG=1 at half of WATCHDOG_USEC (1 s) while it runs: \(socket.messages)")
            daemon.signal(SIGTERM)
            #expect(await socket.waitFor("STOPPING=1", timeout: 10), "\(socket.messages)")
            #expect(daemon.waitForExit(timeout: 15) == 0, "\(daemon.log)")
            socket.drain()
            let ready = try #require(socket.index(of: "READY=1"))
            let status = try #require(socket.index(of: "STATUS="))
            let watchdog = try #require(socket.index(of: "WATCHDOG=1"))
            let stopping = try #require(socket.index(of: "STOPPING=1"))
            #expect(ready < status && status < watchdog && watchdog < stopping, "\(socket.messages)")
        }

        /// An abstract socket (`@name`), and a watchdog meant for another
        /// process (WATCHDOG_PID): READY=1 but never WATCHDOG=1.
        @Test func anAbstractSocketIsNotifiedAndAnotherProcesssWatchdogIsLeftAlone() async throws {
            let scratch = try Scratch()
            let name = "quern-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            let socket = try NotifySocket(path: name, abstract: true)
            let daemon = try DaemonProcess(scratch: scratch, environment: [
                "NOTIFY_SOCKET": socket.name, "WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "1",
            ])
            #expect(await socket.waitFor("READY=1", timeout: 15), "\(daemon.log)")
            try await Task.sleep(for: .milliseconds(2500))
            socket.drain()
            #expect(socket.index(of: "STATUS=") != nil, "\(socket.messages)")
            #expect(socket.index(of: "WATCHDOG=1") == nil, "\(socket.messages)")
            daemon.signal(SIGINT)
            #expect(daemon.waitForExit(timeout: 15) == 0)
            #expect(await socket.waitFor("STOPPING=1", timeout: 1))
        }

        // MARK: SIGHUP and the other routine signals

        /// SIGHUP applies a new log level at once, says which changed options
        /// need a restart, refuses a broken file and keeps serving throughout;
        /// under systemd it says RELOADING=1 then READY=1.
        @Test func sighupReloadsTheConfigurationAndTheDaemonKeepsServing() async throws {
            let scratch = try Scratch()
            let socket = try NotifySocket(path: scratch.root.appendingPathComponent("notify.sock").path)
            let config = try configFile(scratch, "log-level = \"warning\"\n")
            let daemon = try DaemonProcess(scratch: scratch, arguments: ["--config", config], environment: ["NOTIFY_SOCKET": socket.name])
            #expect(await socket.waitFor("READY=1", timeout: 15), "\(daemon.log)")
            try scratch.drop("quiet.txt", text: "one\n")
            #expect(await eventually(timeout: 10) { scratch.resultCount == 1 })
            #expect(!daemon.log.contains("msg=processed"), "at warning, nothing per file: \(daemon.log)")

            _ = try configFile(scratch, "# louder\nlog-level = \"info\"\ntimeout = 60\n")
            daemon.signal(SIGHUP)
            #expect(await eventually(timeout: 10) { daemon.log.contains("msg=\"configuration reloaded\"") }, "\(daemon.log)")
            #expect(daemon.log.contains("applied=log-level"), "\(daemon.log)")
            #expect(daemon.log.contains("msg=\"changed options need a restart to take effect"), "\(daemon.log)")
            #expect(daemon.log.contains("options=timeout"), "\(daemon.log)")
            try scratch.drop("loud.txt", text: "two\n")
            #expect(await eventually(timeout: 10) { daemon.log.contains("name=loud.txt") }, "info lines after the reload: \(daemon.log)")
            socket.drain()
            let reloading = try #require(socket.index(of: "RELOADING=1"), "\(socket.messages)")
            #expect(socket.messages[reloading].contains("MONOTONIC_USEC="))
            #expect(socket.messages[(reloading + 1)...].contains("READY=1"), "\(socket.messages)")

            _ = try configFile(scratch, "log-level = \"info\"\ntimeout = \"soon\"\n")
            daemon.signal(SIGHUP)
            #expect(await eventually(timeout: 10) { daemon.log.contains("configuration not reloaded") }, "\(daemon.log)")
            #expect(daemon.log.contains("quern.toml:2: key \\\"timeout\\\""), "\(daemon.log)")
            _ = try configFile(scratch, "[serve]\n")
            daemon.signal(SIGHUP)
            #expect(await eventually(timeout: 10) { daemon.log.components(separatedBy: "configuration not reloaded").count == 3 }, "\(daemon.log)")
            try scratch.drop("after.txt", text: "three\n")
            #expect(await eventually(timeout: 10) { scratch.resultCount == 3 }, "\(daemon.log)")
            #expect(daemon.log.contains("name=after.txt"), "the refused file left log-level at info: \(daemon.log)")
            #expect(daemon.process.isRunning)
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 15) == 0, "\(daemon.log)")
        }

        /// What a terminal or an operator sends by routine never kills the
        /// daemon; a file in flight is not charged an attempt.
        @Test func routineSignalsNeitherKillTheDaemonNorInterruptItsWork() async throws {
            let scratch = try Scratch()
            let daemon = try DaemonProcess(scratch: scratch, arguments: ["--diagnostic-delay-ms", "1500"])
            #expect(await waitForServing(daemon), "\(daemon.log)")
            try scratch.drop("busy.txt", text: "working\n")
            try await Task.sleep(for: .milliseconds(400))
            for number in [SIGHUP, SIGUSR1, SIGUSR2, SIGTTOU, SIGTTIN, SIGPIPE, SIGHUP] {
                daemon.signal(number)
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(await eventually(timeout: 10) { scratch.resultCount == 1 }, "\(daemon.log)")
            #expect(daemon.process.isRunning, "\(daemon.log)")
            let result = try #require(try scratch.resultsByInput()["busy.txt"])
            #expect(status(result) == "ok", "\(result)")
            #expect(!daemon.log.contains("charged"), "\(daemon.log)")
            #expect(daemon.log.contains("configuration reloaded"), "SIGHUP without a file reloads flags and environment: \(daemon.log)")
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 15) == 0, "\(daemon.log)")
        }

        /// logrotate: the file is moved away, SIGUSR1 (or SIGHUP) opens a new
        /// one by the same name.
        @Test func theLogFileIsReopenedAfterItWasMovedAway() async throws {
            let scratch = try Scratch()
            let logFile = scratch.root.appendingPathComponent("quern.log").path
            let daemon = try DaemonProcess(scratch: scratch, arguments: ["--log-file", logFile])
            let read = { (path: String) in (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
            #expect(await eventually(timeout: 15) { read(logFile).contains("msg=serving") }, "\(daemon.log)")
            #expect(!daemon.log.contains("msg=serving"), "nothing on stderr: \(daemon.log)")
            #expect(rename(logFile, logFile + ".1") == 0)
            daemon.signal(SIGUSR1)
            #expect(await eventually(timeout: 10) { FileManager.default.fileExists(atPath: logFile) })
            try scratch.drop("rotated.txt", text: "x\n")
            #expect(await eventually(timeout: 10) { read(logFile).contains("name=rotated.txt") }, "\(read(logFile))")
            #expect(!read(logFile + ".1").contains("rotated.txt"))
            #expect(rename(logFile, logFile + ".2") == 0)
            daemon.signal(SIGHUP)
            #expect(await eventually(timeout: 10) { read(logFile).contains("configuration reloaded") }, "\(read(logFile + ".2"))")
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 15) == 0)
            #expect(read(logFile).contains("msg=stopped"))
        }

        @Test func aLogFileThatCannotBeOpenedStopsTheStartNamingIt() throws {
            let scratch = try Scratch()
            let run = try QuernInvocation.run(["serve", "--diagnostic-pipeline", "--inbox", scratch.inbox.path, "--outbox", scratch.outbox.path,
                                               "--log-file", scratch.root.appendingPathComponent("missing/quern.log").path])
            #expect(run.status == 1, "\(run.standardError)")
            #expect(run.standardError.contains("--log-file") && run.standardError.contains("missing/quern.log"), "\(run.standardError)")
        }

        // MARK: Log formats

        @Test func jsonLogLinesParseAndCarryTheLogfmtFields() async throws {
            let scratch = try Scratch()
            let daemon = try DaemonProcess(scratch: scratch, arguments: ["--log-format", "json"])
            #expect(await eventually(timeout: 15) { daemon.log.contains("\"msg\":\"serving\"") }, "\(daemon.log)")
            try scratch.drop("j.txt", text: "json\n")
            #expect(await eventually(timeout: 10) { daemon.log.contains("\"msg\":\"processed\"") }, "\(daemon.log)")
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 15) == 0)
            var processed: [String: Any]?
            for line in daemon.log.split(separator: "\n") {
                let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not JSON: \(line)")
                #expect(object["time"] is String && object["level"] is String && object["msg"] is String, "\(line)")
                if object["msg"] as? String == "processed" { processed = object }
            }
            let line = try #require(processed)
            #expect(line["name"] as? String == "j.txt")
            #expect(line["status"] as? String == "ok")
            #expect(line["result"] as? String == "j.txt.json")
        }

        /// With stderr connected to the journal (JOURNAL_STREAM names its
        /// device and inode), lines carry `<N>` priorities and no timestamp.
        @Test func linesToTheJournalCarryPriorityPrefixes() async throws {
            let scratch = try Scratch()
            let logPath = scratch.root.appendingPathComponent("journal.log").path
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
            var status = stat()
            #expect(stat(logPath, &status) == 0)
            let config = try configFile(scratch, "log-level = \"info\"\n")
            let daemon = try DaemonProcess(scratch: scratch, arguments: ["--config", config],
                                           environment: ["JOURNAL_STREAM": "\(status.st_dev):\(status.st_ino)"], logName: "journal.log")
            #expect(await eventually(timeout: 15) { daemon.log.contains("msg=serving") }, "\(daemon.log)")
            try scratch.drop("one.txt", text: "journal\n")
            #expect(await eventually(timeout: 10) { daemon.log.contains("name=one.txt") }, "\(daemon.log)")
            _ = try configFile(scratch, "log-level = \"loud\"\n")
            daemon.signal(SIGHUP)
            #expect(await eventually(timeout: 10) { daemon.log.contains("configuration not reloaded") }, "\(daemon.log)")
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 15) == 0)
            let lines = daemon.log.split(separator: "\n")
            for line in lines {
                #expect(line.range(of: #"^<[2-7]>level="#, options: .regularExpression) != nil, "\(line)")
            }
            #expect(lines.contains { $0.hasPrefix("<5>level=notice msg=serving") }, "\(daemon.log)")
            #expect(lines.contains { $0.hasPrefix("<6>level=info msg=processed") && $0.contains("name=one.txt") }, "\(daemon.log)")
            #expect(lines.contains { $0.hasPrefix("<3>level=error msg=\"configuration not reloaded") }, "\(daemon.log)")

            // The variable inherited by a process whose stderr goes elsewhere: no prefixes.
            let other = try Scratch()
            let plain = try DaemonProcess(scratch: other, environment: ["JOURNAL_STREAM": "\(status.st_dev):\(status.st_ino)"])
            #expect(await waitForServing(plain), "\(plain.log)")
            plain.signal(SIGTERM)
            #expect(plain.waitForExit(timeout: 15) == 0)
            #expect(plain.log.hasPrefix("time="), "\(plain.log)")
        }

        // MARK: The configuration file

        @Test func aBrokenConfigurationFileStopsTheStartNamingTheLineAndKey() throws {
            let scratch = try Scratch()
            let config = try configFile(scratch, "timeout = 5\nmax-memroy = \"2G\"\n")
            for command in [["serve", "--inbox", scratch.inbox.path, "--outbox", scratch.outbox.path, "--diagnostic-pipeline"],
                            ["run", "--diagnostic-pipeline", "/dev/null"], ["config"]] {
                let run = try QuernInvocation.run(command + ["--config", config])
                #expect(run.status == 1, "\(command): \(run.standardError)")
                #expect(run.standardError.contains("\(config):2: key \"max-memroy\""), "\(command): \(run.standardError)")
                #expect(run.standardError.contains("did you mean \"max-memory\""), "\(command): \(run.standardError)")
            }
        }

        @Test func serveAndRunTakeTheirSettingsFromTheFile() async throws {
            let scratch = try Scratch()
            let config = try configFile(scratch, """
                inbox = "\(scratch.inbox.path)"
                outbox = "\(scratch.outbox.path)"
                diagnostic-pipeline = true
                text-task = "embed"
                log-format = "json"
                """)
            let daemon = try DaemonProcess(scratch: scratch, arguments: [], environment: ["QUERN_CONFIG": config])
            #expect(await eventually(timeout: 15) { daemon.log.contains("\"msg\":\"serving\"") }, "\(daemon.log)")
            try scratch.drop("t.txt", text: "embed me\n")
            #expect(await eventually(timeout: 10) { scratch.resultCount == 1 })
            #expect(try scratch.resultsByInput()["t.txt"]?["task"] as? String == "embed")
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 15) == 0)

            let text = scratch.root.appendingPathComponent("r.txt")
            try Data("hi\n".utf8).write(to: text)
            let run = try QuernInvocation.run(["run", "--config", config, text.path])
            #expect(run.status == 0, "\(run.standardError)")
            #expect(run.standardOutput.contains("\"task\":\"embed\""), "\(run.standardOutput)")
        }

        /// `quern config` for every option of the table, three times: from
        /// the file, then the environment over it, then flags over both.
        @Test func quernConfigPrintsEveryOptionWithItsValueAndOrigin() throws {
            let scratch = try Scratch()
            let options = DaemonOptions.all.filter { $0.isFileKey && $0.examples.count >= 2 }
            let example = { (option: AnyDaemonOption, layer: Int) in option.examples[layer % option.examples.count] }
            let text = options.map { ConfigurationFileTests.tomlLine($0, example($0, 0)) }.joined(separator: "\n") + "\n"
            let config = try configFile(scratch, text)
            var environment: [String: String] = [:]
            for option in options { if let variable = option.variable { environment[variable] = example(option, 1) } }
            var flags: [String] = []
            for option in options {
                if option.isSwitch {
                    flags.append(option.flag)
                } else if let separator = option.listSeparator {
                    for part in example(option, 2).components(separatedBy: separator) { flags += [option.flag, part] }
                } else {
                    flags.append(option.flag + "=" + example(option, 2))
                }
            }
            let runs = [
                try QuernInvocation.run(["config", "--config", config]),
                try QuernInvocation.run(["config", "--config", config], environment: environment),
                try QuernInvocation.run(["config", "--config", config] + flags, environment: environment),
            ]
            for (layer, run) in runs.enumerated() {
                #expect(run.status == 0, "layer \(layer): \(run.standardError)")
                let rows = Dictionary(run.standardOutput.split(separator: "\n").map { line in
                    (String(line.prefix { $0 != " " }), String(line))
                }) { first, _ in first }
                #expect(rows["config"]?.contains(config) == true && rows["config"]?.hasSuffix("  flag --config") == true, "\(run.standardOutput)")
                for (index, option) in options.enumerated() {
                    let row = try #require(rows[option.name], "\(option.name) missing: \(run.standardOutput)")
                    let fromFile = "\(config):\(index + 1)"
                    let (value, origin): (String, String)
                    switch layer {
                    case 0: (value, origin) = (example(option, 0), fromFile)
                    case 1: (value, origin) = option.variable.map { (example(option, 1), "environment " + $0) } ?? (example(option, 0), fromFile)
                    default: (value, origin) = (option.isSwitch ? "true" : example(option, 2), "flag " + option.flag)
                    }
                    let shown = option.isSwitch ? (value == "true" ? "on" : "off") : value
                    let columns = row.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
                    #expect(columns.count >= 3 && columns[1] == shown, "layer \(layer) \(option.flag): \(row)")
                    #expect(row.hasSuffix("  " + origin), "layer \(layer) \(option.flag): \(row)")
                }
            }
            // Defaults say so; an unknown flag is refused.
            let defaults = try QuernInvocation.run(["config", "--config", "/dev/null"])
            #expect(defaults.status == 0, "\(defaults.standardError)")
            let timeout = try #require(defaults.standardOutput.split(separator: "\n").first { $0.hasPrefix("timeout ") })
            #expect(timeout.hasSuffix("default") && timeout.contains(" 300 "), "\(timeout)")
            let unknown = try QuernInvocation.run(["config", "--timout", "5"])
            #expect(unknown.status != 0 && unknown.standardError.contains("--timout"), "\(unknown.standardError)")
        }

        // MARK: The unit

        /// contrib/quern.service passes `systemd-analyze verify` without a
        /// single message (with ExecStart pointed at the built binary, which
        /// verify requires to exist).
        @Test func theSystemdUnitVerifiesCleanly() throws {
            let unit = URL(fileURLWithPath: TestPaths.inRepository("contrib/quern.service"))
            let text = try String(contentsOf: unit, encoding: .utf8)
            #expect(text.contains("/usr/local/bin/quern"))
            #expect(!text.contains("man:"), "no man page exists")
            let scratch = try Scratch()
            let copy = scratch.root.appendingPathComponent("quern.service")
            try Data(text.replacingOccurrences(of: "/usr/local/bin/quern", with: try QuernBinary.path).utf8).write(to: copy)
            let analyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first { FileManager.default.isExecutableFile(atPath: $0) }
            let path = try #require(analyze, "systemd-analyze is missing: scripts/install-deps.sh installs Debian's systemd package")
            let process = Process()
            process.executableURL = URL(fileURLWithPath: path)
            process.arguments = ["verify", copy.path]
            process.currentDirectoryURL = scratch.root
            let output = Pipe()
            process.standardOutput = output
            process.standardError = output
            try process.run()
            let messages = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "\(messages)")
            #expect(messages.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "systemd-analyze verify: \(messages)")
        }
    }
}
