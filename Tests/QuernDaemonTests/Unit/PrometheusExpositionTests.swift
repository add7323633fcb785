import Foundation
import QuernDaemon
import QuernHTTP
import QuernPipelines
import QuernTestSupport
import Testing

@Suite struct PrometheusExpositionTests {
    private func lines(_ text: String) -> [String] { text.split(separator: "\n").map(String.init) }

    @Test func familiesHaveHelpAndTypeLinesAndEndWithANewline() {
        let registry = MetricsRegistry()
        let counter = registry.counter("quern_things_total", help: "Things.\nSecond line with a \\ backslash.")
        counter.add(3)
        let text = registry.exposition()
        #expect(text.hasSuffix("\n"))
        #expect(lines(text) == [
            #"# HELP quern_things_total Things.\nSecond line with a \\ backslash."#,
            "# TYPE quern_things_total counter",
            "quern_things_total 3",
        ])
    }

    @Test func labelValuesEscapeBackslashQuoteAndNewline() {
        let registry = MetricsRegistry()
        let gauge = registry.gauge("quern_odd", help: "Odd labels.", labels: ["lane"])
        gauge.set(1.5, labels: ["a\\b\"c\nd"])
        #expect(lines(registry.exposition()).last == #"quern_odd{lane="a\\b\"c\nd"} 1.5"#)
        #expect(PrometheusText.escapeLabelValue("plain-ÄÖ") == "plain-ÄÖ")
    }

    @Test func numbersAreSpelledAsTheFormatWantsThem() {
        #expect(PrometheusText.number(3) == "3")
        #expect(PrometheusText.number(0) == "0")
        #expect(PrometheusText.number(-2) == "-2")
        #expect(PrometheusText.number(0.0025) == "0.0025")
        #expect(PrometheusText.number(.infinity) == "+Inf")
        #expect(PrometheusText.number(-.infinity) == "-Inf")
        #expect(PrometheusText.number(.nan) == "NaN")
        #expect(Double(PrometheusText.number(1e-5)) == 1e-5)
        #expect(Double(PrometheusText.number(1.7e300)) == 1.7e300)
    }

    @Test func histogramBucketsAreCumulativeAndEndWithInfinity() {
        let registry = MetricsRegistry()
        let histogram = registry.histogram("quern_wait_seconds", help: "Waits.", labels: ["kind"], buckets: [1, 0.1, 10])
        for value in [0.05, 0.1, 0.5, 5, 50, 50] { histogram.observe(value, labels: ["text"]) }
        histogram.observe(.nan, labels: ["text"])
        #expect(histogram.buckets == [0.1, 1, 10])
        #expect(lines(registry.exposition()) == [
            "# HELP quern_wait_seconds Waits.",
            "# TYPE quern_wait_seconds histogram",
            #"quern_wait_seconds_bucket{kind="text",le="0.1"} 2"#,
            #"quern_wait_seconds_bucket{kind="text",le="1"} 3"#,
            #"quern_wait_seconds_bucket{kind="text",le="10"} 4"#,
            #"quern_wait_seconds_bucket{kind="text",le="+Inf"} 6"#,
            #"quern_wait_seconds_sum{kind="text"} 105.65"#,
            #"quern_wait_seconds_count{kind="text"} 6"#,
        ])
    }

    @Test func countersNeverGoDownAndInitializedSeriesShowZero() {
        let registry = MetricsRegistry()
        let counter = registry.counter("quern_files_total", help: "Files.", labels: ["kind", "status"])
        counter.initialize(labels: ["text", "ok"])
        counter.add(-1, labels: ["text", "ok"])
        counter.add(.nan, labels: ["text", "ok"])
        #expect(counter.value(labels: ["text", "ok"]) == 0)
        counter.add(labels: ["image", "error"])
        // Series sorted by label values: stable from scrape to scrape.
        #expect(Array(lines(registry.exposition()).dropFirst(2)) == [
            #"quern_files_total{kind="image",status="error"} 1"#,
            #"quern_files_total{kind="text",status="ok"} 0"#,
        ])
    }

    @Test func namesFollowThePrometheusRules() {
        #expect(PrometheusText.isValidMetricName("quern_files_total"))
        #expect(PrometheusText.isValidMetricName("a:b_c"))
        #expect(!PrometheusText.isValidMetricName("9lives"))
        #expect(!PrometheusText.isValidMetricName("quern-files"))
        #expect(!PrometheusText.isValidMetricName(""))
        #expect(PrometheusText.isValidLabelName("kind"))
        #expect(!PrometheusText.isValidLabelName("__reserved"))
        #expect(!PrometheusText.isValidLabelName("a:b"))
    }

    @Test func daemonMetricsCountFinishedFilesByKindStatusAndStage() {
        let metrics = DaemonMetrics(version: "1.2.3", startedAt: 1_700_000_000)
        let text = JobReport(claimID: "c1", name: "a.txt", kind: .text, task: .chat, model: "smollm2", lane: "smollm2", waitedSeconds: 0)
        metrics.observe(.jobFinished(FinishedJob(job: text, status: .ok, readSeconds: 0.001, decodeSeconds: 0.002, inferenceSeconds: 1.5,
                                                 writeSeconds: 0.003, queuedSeconds: 0.2, generatedTokens: 40)))
        let audio = JobReport(claimID: "c2", name: "b.wav", kind: .audio, task: .transcribe, model: "whisper", lane: "whisper", waitedSeconds: 0)
        metrics.observe(.jobFinished(FinishedJob(job: audio, status: .ok, decodeSeconds: 0.1, inferenceSeconds: 3, writeSeconds: 0.002, audioSeconds: 30.5)))
        let bad = JobReport(claimID: "c3", name: "c.png", kind: .unknown, task: nil, model: nil, lane: "intake", waitedSeconds: 0)
        metrics.observe(.jobFinished(FinishedJob(job: bad, status: .error, errorCode: "input.empty", writeSeconds: 0.001)))
        metrics.observe(.jobFinished(FinishedJob(job: bad, status: .handedBack, writeSeconds: 0.001)))
        metrics.observe(.modelLoaded(ModelLoadReport(name: "whisper", seconds: 0.75, weightBytes: 1000)))

        let body = lines(metrics.scrape())
        #expect(body.contains(#"quern_files_total{kind="text",status="ok"} 1"#))
        #expect(body.contains(#"quern_files_total{kind="audio",status="ok"} 1"#))
        #expect(body.contains(#"quern_files_total{kind="unknown",status="error"} 1"#))
        #expect(body.contains(#"quern_files_total{kind="unknown",status="handed_back"} 1"#))
        #expect(body.contains(#"quern_files_total{kind="image",status="ok"} 0"#))
        // A stage an input skipped (0 s) is not observed; a handed-back one is not at all.
        #expect(body.contains(#"quern_stage_duration_seconds_count{stage="write"} 3"#))
        #expect(body.contains(#"quern_stage_duration_seconds_count{stage="inference"} 2"#))
        #expect(body.contains(#"quern_stage_duration_seconds_count{stage="read"} 1"#))
        #expect(body.contains(#"quern_queue_wait_seconds_count{kind="text"} 1"#))
        #expect(body.contains("quern_generated_tokens_total 40"))
        #expect(body.contains("quern_transcribed_audio_seconds_total 30.5"))
        #expect(body.contains(#"quern_model_load_seconds{model="whisper"} 0.75"#))
        #expect(body.contains("quern_models_loaded 1"))
        #expect(body.contains(#"quern_build_info{version="1.2.3"} 1"#))
        #expect(body.contains("process_start_time_seconds 1700000000"))
        #expect(body.contains("quern_ready 0"))
    }

    @Test func theProcessStartTimeIsTheKernelsAndInThePast() throws {
        let metrics = DaemonMetrics(version: "test")
        let line = try #require(lines(metrics.scrape()).first { $0.hasPrefix("process_start_time_seconds ") })
        let started = try #require(Double(line.dropFirst("process_start_time_seconds ".count)))
        let now = Date().timeIntervalSince1970
        // This test process started before this test, and not days ago.
        #expect(started <= now + 1)
        #expect(started > now - 86_400)
    }

    @Test func readinessFollowsReadyAndStopping() {
        let metrics = DaemonMetrics(version: "test")
        let router = HTTPRouter()
        MonitoringEndpoints.register(on: router, metrics: metrics)
        func status(_ path: String, _ method: String = "GET") -> Int { router.respond(to: HTTPRequest(method: method, target: path)).status }
        #expect(status("/health") == 200)
        #expect(status("/ready") == 503)
        metrics.observe(.ready)
        #expect(status("/ready") == 200)
        #expect(status("/ready", "HEAD") == 200)
        metrics.observe(.stopping(reason: "SIGTERM"))
        #expect(status("/ready") == 503)
        #expect(status("/health") == 200)
        // A late .ready (a reload) does not make a stopping daemon ready again.
        metrics.observe(.ready)
        #expect(status("/ready") == 503)
        #expect(status("/nope") == 404)
        #expect(status("/metrics?x=1") == 200)
        let refused = router.respond(to: HTTPRequest(method: "POST", target: "/metrics"))
        #expect(refused.status == 405)
        #expect(refused.headers.contains { $0.name == "Allow" && $0.value == "GET, HEAD" })
        let scrape = router.respond(to: HTTPRequest(method: "GET", target: "/metrics"))
        #expect(scrape.headers.contains { $0.name == "Content-Type" && $0.value == PrometheusText.contentType })
    }

    @Test func listenAddressesAreHostColonPort() {
        #expect(ListenAddress("127.0.0.1:9464") == ListenAddress(host: "127.0.0.1", port: 9464))
        #expect(ListenAddress("localhost:0") == ListenAddress(host: "localhost", port: 0))
        #expect(ListenAddress("[::1]:9464") == ListenAddress(host: "::1", port: 9464))
        #expect(ListenAddress("[::1]:9464")?.description == "[::1]:9464")
        for bad in ["", "9464", ":9464", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:http",
                    "::1:9464", "[::1]9464", "[]:80", "host name:80", "-bad:80", "127.0.0.1:+80"] {
            #expect(ListenAddress(bad) == nil, "\(bad) was accepted")
        }
    }

    @Test func aBadMetricsAddressNamesTheOptionAndTheVariable() throws {
        let flag = thrownError(DaemonOptionError.self) { _ = try DaemonOptions.metricsListen.resolve(OptionSources(commandLine: ["metrics-listen": "9464"], environment: [:])) }
        #expect(flag?.description.contains("--metrics-listen \"9464\" is not valid: expected HOST:PORT") == true, "\(String(describing: flag))")
        let variable = thrownError(DaemonOptionError.self) {
            _ = try DaemonOptions.metricsListen.resolve(OptionSources(commandLine: [:], environment: ["QUERN_METRICS_LISTEN": "localhost:99999"]))
        }
        #expect(variable?.description.hasPrefix("QUERN_METRICS_LISTEN=\"localhost:99999\" (for --metrics-listen) is not valid") == true)
        #expect(try DaemonOptions.metricsListen.resolve(OptionSources(commandLine: [:], environment: [:])) == nil)
    }
}
