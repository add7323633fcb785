import Synchronization

/// The three Prometheus metric types Quern exports.
public enum MetricType: String, Sendable {
    case counter, gauge, histogram
}

/// A metric family's name, help and label names. Names follow Prometheus's
/// rules (checked when registered: these are constants in the code, not
/// anything a user or a file can reach).
public struct MetricDescriptor: Sendable {
    public let name: String
    public let help: String
    public let type: MetricType
    public let labelNames: [String]

    init(name: String, help: String, type: MetricType, labelNames: [String]) {
        precondition(PrometheusText.isValidMetricName(name), "invalid metric name \(name)")
        precondition(labelNames.allSatisfy(PrometheusText.isValidLabelName), "invalid label name in \(labelNames)")
        precondition(Set(labelNames).count == labelNames.count, "duplicate label names in \(labelNames)")
        precondition(type != .histogram || !labelNames.contains("le"), "le is the histogram's own label")
        self.name = name
        self.help = help
        self.type = type
        self.labelNames = labelNames
    }
}

/// Something the registry renders: one family, HELP and TYPE included.
protocol MetricFamily: Sendable {
    var descriptor: MetricDescriptor { get }
    func render(into text: inout String)
}

/// Holds the metric families in registration order and renders them as the
/// Prometheus text exposition format 0.0.4. Thread-safe: every family has
/// its own lock, taken for a few additions at a time.
public final class MetricsRegistry: Sendable {
    private let families = Mutex<[any MetricFamily]>([])

    public init() {}

    public func counter(_ name: String, help: String, labels: [String] = []) -> Counter {
        add(Counter(MetricDescriptor(name: name, help: help, type: .counter, labelNames: labels)))
    }

    public func gauge(_ name: String, help: String, labels: [String] = []) -> Gauge {
        add(Gauge(MetricDescriptor(name: name, help: help, type: .gauge, labelNames: labels)))
    }

    /// `buckets` are the finite upper bounds; `+Inf` is always added.
    public func histogram(_ name: String, help: String, labels: [String] = [], buckets: [Double]) -> Histogram {
        add(Histogram(MetricDescriptor(name: name, help: help, type: .histogram, labelNames: labels), buckets: buckets))
    }

    private func add<Family: MetricFamily>(_ family: Family) -> Family {
        families.withLock { families in
            precondition(!families.contains { $0.descriptor.name == family.descriptor.name }, "metric \(family.descriptor.name) registered twice")
            families.append(family)
        }
        return family
    }

    /// Every family, as the body of a `/metrics` response.
    public func exposition() -> String {
        let snapshot = families.withLock { $0 }
        var text = ""
        for family in snapshot { family.render(into: &text) }
        return text
    }
}

/// Label values in the order of the family's label names.
typealias LabelValues = [String]

private func checkLabels(_ values: LabelValues, _ descriptor: MetricDescriptor) {
    precondition(values.count == descriptor.labelNames.count,
                 "\(descriptor.name) takes labels \(descriptor.labelNames), got \(values.count) values")
}

/// A value that only goes up (per label set); resets only with the process.
public final class Counter: MetricFamily {
    public let descriptor: MetricDescriptor
    private let series = Mutex<[LabelValues: Double]>([:])

    init(_ descriptor: MetricDescriptor) { self.descriptor = descriptor }

    /// Adds `amount`; a negative, NaN or infinite amount is ignored (a
    /// counter must never go down).
    public func add(_ amount: Double = 1, labels: [String] = []) {
        checkLabels(labels, descriptor)
        guard amount.isFinite, amount >= 0 else { return }
        series.withLock { $0[labels, default: 0] += amount }
    }

    /// Makes the series exist at 0, so rate() sees its first increase.
    public func initialize(labels: [String]) {
        checkLabels(labels, descriptor)
        series.withLock { if $0[labels] == nil { $0[labels] = 0 } }
    }

    public func value(labels: [String] = []) -> Double { series.withLock { $0[labels] ?? 0 } }

    func render(into text: inout String) {
        let values = series.withLock { $0 }
        PrometheusText.header(descriptor, into: &text)
        for labels in values.keys.sorted(by: PrometheusText.labelOrder) {
            PrometheusText.sample(descriptor.name, names: descriptor.labelNames, values: labels, value: values[labels] ?? 0, into: &text)
        }
    }
}

/// A value that goes up and down, set from the daemon's status when scraped.
public final class Gauge: MetricFamily {
    public let descriptor: MetricDescriptor
    private let series = Mutex<[LabelValues: Double]>([:])

    init(_ descriptor: MetricDescriptor) { self.descriptor = descriptor }

    public func set(_ value: Double, labels: [String] = []) {
        checkLabels(labels, descriptor)
        series.withLock { $0[labels] = value }
    }

    /// Replaces every series at once (lanes and models come and go).
    public func replaceAll(_ values: [[String]: Double]) {
        for labels in values.keys { checkLabels(labels, descriptor) }
        series.withLock { $0 = values }
    }

    public func remove(labels: [String]) {
        series.withLock { $0[labels] = nil }
    }

    public func value(labels: [String] = []) -> Double? { series.withLock { $0[labels] } }

    func render(into text: inout String) {
        let values = series.withLock { $0 }
        PrometheusText.header(descriptor, into: &text)
        for labels in values.keys.sorted(by: PrometheusText.labelOrder) {
            PrometheusText.sample(descriptor.name, names: descriptor.labelNames, values: labels, value: values[labels] ?? 0, into: &text)
        }
    }
}

/// Observations counted in buckets by upper bound, with their sum and count.
/// Rendered cumulatively (`le` = "less than or equal"), ending with `+Inf`,
/// whose count equals `_count`.
public final class Histogram: MetricFamily {
    struct Series {
        /// Per bucket, not cumulative; the last one is +Inf.
        var counts: [UInt64]
        var sum: Double = 0
        var count: UInt64 = 0
    }

    public let descriptor: MetricDescriptor
    /// Finite upper bounds, ascending.
    public let buckets: [Double]
    private let series = Mutex<[LabelValues: Series]>([:])

    init(_ descriptor: MetricDescriptor, buckets: [Double]) {
        let finite = Array(Set(buckets.filter(\.isFinite))).sorted()
        precondition(!finite.isEmpty, "\(descriptor.name) needs at least one finite bucket")
        self.descriptor = descriptor
        self.buckets = finite
    }

    /// Counts one observation; NaN is ignored (it belongs in no bucket).
    public func observe(_ value: Double, labels: [String] = []) {
        checkLabels(labels, descriptor)
        guard !value.isNaN else { return }
        let index = buckets.firstIndex { value <= $0 } ?? buckets.count
        series.withLock { all in
            var entry = all[labels] ?? Series(counts: Array(repeating: 0, count: buckets.count + 1))
            entry.counts[index] += 1
            entry.sum += value
            entry.count += 1
            all[labels] = entry
        }
    }

    /// Makes the series exist with every bucket at 0.
    public func initialize(labels: [String]) {
        checkLabels(labels, descriptor)
        series.withLock { if $0[labels] == nil { $0[labels] = Series(counts: Array(repeating: 0, count: buckets.count + 1)) } }
    }

    public func count(labels: [String] = []) -> UInt64 { series.withLock { $0[labels]?.count ?? 0 } }

    func render(into text: inout String) {
        let values = series.withLock { $0 }
        PrometheusText.header(descriptor, into: &text)
        let names = descriptor.labelNames + ["le"]
        for labels in values.keys.sorted(by: PrometheusText.labelOrder) {
            guard let entry = values[labels] else { continue }
            var cumulative: UInt64 = 0
            for (index, bound) in (buckets + [Double.infinity]).enumerated() {
                cumulative += entry.counts[index]
                PrometheusText.sample(descriptor.name + "_bucket", names: names, values: labels + [PrometheusText.number(bound)],
                                      value: Double(cumulative), into: &text)
            }
            PrometheusText.sample(descriptor.name + "_sum", names: descriptor.labelNames, values: labels, value: entry.sum, into: &text)
            PrometheusText.sample(descriptor.name + "_count", names: descriptor.labelNames, values: labels, value: Double(entry.count), into: &text)
        }
    }
}
