import QuernHTTP

/// The HTTP routes of `--metrics-listen`: `/metrics` (Prometheus text),
/// `/health` (200 while the process answers) and `/ready` (200 once the
/// daemon serves the inbox, 503 while starting or stopping). GET and HEAD.
public enum MonitoringEndpoints {
    public static let paths = ["/metrics", "/health", "/ready"]

    public static func register(on router: HTTPRouter, metrics: DaemonMetrics) {
        router.get("/metrics") { _ in
            HTTPResponse.text(200, metrics.scrape(), contentType: PrometheusText.contentType)
        }
        router.get("/health") { _ in
            HTTPResponse.text(200, "ok")
        }
        router.get("/ready") { _ in
            let readiness = metrics.readiness
            return HTTPResponse.text(readiness == .ready ? 200 : 503, readiness.rawValue)
        }
    }
}
