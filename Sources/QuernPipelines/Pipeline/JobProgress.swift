/// How far a long job has come, as a pipeline reports it through its
/// `PipelineContext` (the daemon logs it, `quern status` shows it).
public enum JobProgress: Sendable, Equatable {
    /// A language model: tokens generated so far, at what rate, and the
    /// most it may generate.
    case tokens(generated: Int, perSecond: Double, limit: Int)
    /// Speech: seconds of audio transcribed of the total.
    case audio(doneSeconds: Double, totalSeconds: Double)
    /// Batched or multi-step work (training's feature extraction, epochs).
    case steps(done: Int, total: Int, unit: String)

    /// One phrase for log lines and `quern status` ("42 tokens, 31.0 tokens/s").
    public var summary: String {
        switch self {
        case let .tokens(generated, perSecond, limit):
            return "\(generated)/\(limit) tokens, \(Self.format(perSecond)) tokens/s"
        case let .audio(done, total):
            return "\(Self.format(done)) s of \(Self.format(total)) s audio"
        case let .steps(done, total, unit):
            return "\(unit) \(done) of \(total)"
        }
    }

    /// Completed share from 0 to 1 when the total is known.
    public var fraction: Double? {
        switch self {
        case let .tokens(generated, _, limit): return limit > 0 ? min(1, Double(generated) / Double(limit)) : nil
        case let .audio(done, total): return total > 0 ? min(1, done / total) : nil
        case let .steps(done, total, _): return total > 0 ? min(1, Double(done) / Double(total)) : nil
        }
    }

    private static func format(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }
}
