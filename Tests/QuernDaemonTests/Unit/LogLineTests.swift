import Foundation
import Logging
@testable import QuernDaemon
import Testing

@Suite struct LogLineTests {
    private let metadata: Logger.Metadata = [
        "name": "a \"b\"\nc.txt", "count": "3", "tags": ["x", "y"], "msg": "clash",
    ]

    @Test func jsonLinesCarryTheSameFieldsAsLogfmt() throws {
        let line = LogLine.render(level: .warning, message: "processed", metadata: metadata, format: .json, journal: false)
        #expect(line.hasSuffix("\n"))
        #expect(line.dropLast().contains("\n") == false, "one event, one line")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["level"] as? String == "warning")
        #expect(object["msg"] as? String == "processed")
        #expect(object["name"] as? String == "a \"b\"\nc.txt")
        #expect(object["count"] as? String == "3")
        #expect(object["tags"] as? [String] == ["x", "y"])
        #expect(object["meta_msg"] as? String == "clash", "a metadata key never replaces a fixed field")
        let time = try #require(object["time"] as? String)
        #expect(time.hasSuffix("Z") && time.contains("T"))

        let logfmt = LogLine.render(level: .warning, message: "processed", metadata: metadata, format: .logfmt, journal: false)
        #expect(logfmt.hasPrefix("time="))
        #expect(logfmt.contains(" level=warning msg=processed count=3 msg=clash name=\"a \\\"b\\\"\\nc.txt\" tags=x,y\n"), "\(logfmt)")
    }

    @Test func theJournalGetsPriorityPrefixesAndNoTimestamp() throws {
        let expected: [(Logger.Level, String)] = [
            (.critical, "<2>"), (.error, "<3>"), (.warning, "<4>"), (.notice, "<5>"), (.info, "<6>"), (.debug, "<7>"), (.trace, "<7>"),
        ]
        for (level, prefix) in expected {
            for format in LogFormat.allCases {
                let line = LogLine.render(level: level, message: "m", metadata: [:], format: format, journal: true)
                #expect(line.hasPrefix(prefix), "\(level) \(format): \(line)")
                #expect(!line.contains("time"), "\(line)")
            }
        }
        let json = LogLine.render(level: .error, message: "m", metadata: ["k": "v"], format: .json, journal: true)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.dropFirst(3).utf8)) as? [String: Any])
        #expect(object["k"] as? String == "v")
    }

    @Test func stderrIsTheJournalOnlyWhenItsDeviceAndInodeMatch() {
        var status = stat()
        #expect(fstat(STDERR_FILENO, &status) == 0)
        #expect(LogOutput.stderrIsJournal(["JOURNAL_STREAM": "\(status.st_dev):\(status.st_ino)"]))
        #expect(!LogOutput.stderrIsJournal(["JOURNAL_STREAM": "\(status.st_dev):\(status.st_ino + 1)"]))
        #expect(!LogOutput.stderrIsJournal(["JOURNAL_STREAM": "garbage"]))
        #expect(!LogOutput.stderrIsJournal([:]))
    }

    @Test func theWatchdogIsOnlyForTheProcessItIsMeantFor() {
        #expect(SystemdNotifier.watchdogInterval(["WATCHDOG_USEC": "30000000"]) == 15_000_000_000)
        #expect(SystemdNotifier.watchdogInterval(["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "\(getpid())"]) == 15_000_000_000)
        #expect(SystemdNotifier.watchdogInterval(["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"]) == nil)
        #expect(SystemdNotifier.watchdogInterval(["WATCHDOG_USEC": "0"]) == nil)
        #expect(SystemdNotifier.watchdogInterval([:]) == nil)
        #expect(SystemdNotifier(environment: [:]) == nil, "no NOTIFY_SOCKET: nothing to notify")
        #expect(SystemdNotifier(environment: ["NOTIFY_SOCKET": "relative/path"]) == nil)
    }
}
