import Foundation
import QuernTestSupport
import Testing

extension Integration {
    /// `--metrics-listen`: a real daemon, scraped over HTTP and checked by the
    /// Prometheus project's own parser (scripts/check-metrics.py).
    @Suite struct MetricsEndpoint {
        @Test func countersAndHistogramsMatchABurstOfFiles() throws {
            let scratch = try Scratch()
            let daemon = try DaemonProcess(scratch: scratch, arguments: ["--metrics-listen", "127.0.0.1:0"])
            #expect(daemon.waitUntilServing(), "\(daemon.log)")
            let base = try #require(MetricsScrape.address(in: daemon), "no metrics_listen in the log: \(daemon.log)")
            // Before any file: every family parses, /ready is 200.
            let before = try MetricsScrape.check(base, ["--expect-ready", "200", "--expect", #"quern_files_total{kind="text",status="ok"}=0"#])
            #expect(before.status == 0, "\(before.output)")

            let okCount = 20
            for index in 0..<okCount { try scratch.drop("ok-\(index).txt", text: "burst file \(index)\n") }
            for index in 0..<4 { try scratch.drop("empty-\(index).txt", []) }
            for index in 0..<3 { try scratch.drop("typo-\(index).json", text: #"{"task": "complete", "prompt": "x", "temprature": 1}"#) }
            try scratch.drop("fails.txt", text: "please quern-diagnostic:fail\n")
            let total = okCount + 4 + 3 + 1
            #expect(scratch.waitUntil(timeout: 60) { scratch.resultCount == total }, "\(scratch.resultCount) results")

            // What the outbox says, by (kind, status), is what the counters must say.
            var byKindAndStatus: [String: Int] = [:]
            var byKind: [String: Int] = [:]
            for document in try scratch.resultsByInput().values {
                let kind = (document["input"] as? [String: Any])?["kind"] as? String ?? "?"
                byKindAndStatus["\(kind) \(status(document) ?? "?")", default: 0] += 1
                byKind[kind, default: 0] += 1
            }
            #expect(byKindAndStatus["text ok"] == okCount)
            #expect(byKindAndStatus.values.reduce(0, +) == total)
            var arguments = ["--expect-ready", "200",
                             "--expect-histogram-count", #"quern_stage_duration_seconds{stage="write"}="# + String(total)]
            for kind in ["text", "image", "audio", "request", "unknown"] {
                for outcome in ["ok", "error"] {
                    arguments += ["--expect", #"quern_files_total{kind="\#(kind)",status="\#(outcome)"}="# + String(byKindAndStatus["\(kind) \(outcome)"] ?? 0)]
                }
                if let count = byKind[kind] {
                    arguments += ["--expect-histogram-count", #"quern_queue_wait_seconds{kind="\#(kind)"}="# + String(count)]
                }
            }
            // Results are written before the counters are told: wait for the last one.
            var after = try MetricsScrape.check(base, arguments)
            let deadline = Date().addingTimeInterval(5)
            while after.status != 0, Date() < deadline {
                usleep(100_000)
                after = try MetricsScrape.check(base, arguments)
            }
            #expect(after.status == 0, "\(after.output)")

            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 10) == 0)
        }

        @Test func readyIs503WhileStoppingAndHealthStays200() throws {
            let scratch = try Scratch()
            let daemon = try DaemonProcess(scratch: scratch, arguments: ["--metrics-listen", "127.0.0.1:0", "--diagnostic-delay-ms", "4000"])
            #expect(daemon.waitUntilServing(), "\(daemon.log)")
            let base = try #require(MetricsScrape.address(in: daemon), "no metrics_listen in the log: \(daemon.log)")
            #expect(try MetricsScrape.status(base + "/ready") == 200)
            try scratch.drop("slow.txt", text: "takes four seconds\n")
            #expect(scratch.waitUntil(timeout: 10) { !scratch.entries(scratch.work).isEmpty })
            // Stopping waits for the running file: the endpoints still answer meanwhile.
            daemon.signal(SIGTERM)
            #expect(scratch.waitUntil(timeout: 3) { daemon.log.contains("msg=stopping") })
            #expect(try MetricsScrape.status(base + "/ready") == 503)
            #expect(try MetricsScrape.status(base + "/health") == 200)
            #expect(daemon.waitForExit(timeout: 20) == 0)
        }

        @Test func aBusyPortOrABadAddressStopsStartUpNamingIt() throws {
            let first = try Scratch()
            let daemon = try DaemonProcess(scratch: first, arguments: ["--metrics-listen", "127.0.0.1:0"])
            #expect(daemon.waitUntilServing(), "\(daemon.log)")
            let base = try #require(MetricsScrape.address(in: daemon))
            let taken = String(base.dropFirst("http://".count))

            let second = try Scratch()
            let busy = try QuernInvocation.run(["serve", "--inbox", second.inbox.path, "--outbox", second.outbox.path, "--diagnostic-pipeline",
                                                "--metrics-listen", taken])
            #expect(busy.status == 1, "\(busy.standardError)")
            #expect(busy.standardError.contains("cannot listen on \(taken)"), "\(busy.standardError)")
            #expect(busy.standardError.contains("http.cannot_bind"))
            #expect(second.resultCount == 0)

            let bad = try QuernInvocation.run(["serve", "--inbox", second.inbox.path, "--outbox", second.outbox.path, "--diagnostic-pipeline"],
                                              environment: ["QUERN_METRICS_LISTEN": "9464"])
            #expect(bad.status == 1, "\(bad.standardError)")
            #expect(bad.standardError.contains("QUERN_METRICS_LISTEN=\"9464\" (for --metrics-listen) is not valid"), "\(bad.standardError)")

            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 10) == 0)
        }
    }
}

/// Talks to a daemon's metrics endpoint through python3, the way CI has it.
enum MetricsScrape {
    /// `http://HOST:PORT` from the daemon's "monitoring" log line.
    static func address(in daemon: DaemonProcess, timeout: Double = 10) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            for line in daemon.log.split(separator: "\n") where line.contains("msg=monitoring") {
                for field in line.split(separator: " ") where field.hasPrefix("metrics_listen=") {
                    return "http://" + field.dropFirst("metrics_listen=".count)
                }
            }
            usleep(20_000)
        } while Date() < deadline
        return nil
    }

    /// Runs scripts/check-metrics.py against `base` with `arguments`.
    static func check(_ base: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        try python([TestPaths.inRepository("scripts/check-metrics.py"), "--url", base] + arguments)
    }

    /// The HTTP status of a GET.
    static func status(_ url: String) throws -> Int? {
        let script = """
            import sys, urllib.request, urllib.error
            try:
                print(urllib.request.urlopen(sys.argv[1], timeout=5).status)
            except urllib.error.HTTPError as error:
                print(error.code)
            """
        let (code, output) = try python(["-c", script, url])
        return code == 0 ? Int(output.trimmingCharacters(in: .whitespacesAndNewlines)) : nil
    }

    private static func python(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try ChildProcess.run("/usr/bin/env", ["python3"] + arguments)
    }
}
