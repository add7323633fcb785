/// How long processed inputs (the archive, `done/` and `failed/`) and results
/// (the outbox) are kept. The default keeps everything forever, as before.
public struct RetentionPolicy: Sendable, Equatable {
    /// Which archived inputs are kept at all.
    public enum KeepInputs: String, Sendable, CaseIterable {
        /// Every input, in done/ or failed/ (then limited by age and size).
        case always
        /// Only inputs whose result is an error: an input is deleted as soon
        /// as its `ok` result is durable; failed ones stay for a look.
        case failed
        /// None: every input is deleted once its result is durable.
        case never
    }

    public static let defaultSweepInterval = 300.0

    public var keepInputs: KeepInputs = .always
    /// Seconds an archived input is kept (by when it was archived); nil: forever.
    public var inputsMaxAge: Double?
    /// Bytes the archive may hold, oldest deleted first; nil: no limit.
    public var inputsMaxBytes: Int?
    /// Seconds a result is kept (by when it was written); nil: forever.
    public var resultsMaxAge: Double?
    /// Bytes the results in the outbox may take, oldest deleted first; nil: no limit.
    public var resultsMaxBytes: Int?
    /// Seconds between sweeps.
    public var sweepInterval: Double = defaultSweepInterval

    public init() {}

    var limitsInputs: Bool { keepInputs != .always || inputsMaxAge != nil || inputsMaxBytes != nil }
    var limitsResults: Bool { resultsMaxAge != nil || resultsMaxBytes != nil }
    /// Whether anything is ever deleted (no sweeper runs otherwise).
    public var isActive: Bool { limitsInputs || limitsResults }

    /// Whether an input is deleted as soon as its result is durable.
    func discardsAtOnce(succeeded: Bool) -> Bool {
        switch keepInputs {
        case .always: return false
        case .failed: return succeeded
        case .never: return true
        }
    }
}
