#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Foundation
import Synchronization

/// Progress of a long loop (feature extraction, training epochs): on a
/// terminal one line redrawn in place — done/total, rate, ETA — at most
/// ~10 times a second and ended with a newline; anywhere else (a log file,
/// the daemon) a line every few seconds through a sink, so the daemon can
/// send it to its logger. Safe to call from any thread.
public final class ProgressReporter: Sendable {
    public enum Output: Sendable {
        /// Redraws one line: each string starts with "\r" and clears to the
        /// end of the line; the last one ends with "\n".
        case terminal(@Sendable (String) -> Void)
        /// One complete line (no newline) every `logInterval` seconds, and
        /// a summary at the end.
        case log(@Sendable (String) -> Void)
    }

    private struct State {
        var done = 0
        /// Items done without work (cache hits): counted as done, left out of the rate.
        var free = 0
        var start: Double
        var lastOutput: Double
        var finished = false
    }

    public let label: String
    public let total: Int
    public let unit: String
    private let output: Output
    private let redrawInterval: Double
    private let logInterval: Double
    private let now: @Sendable () -> Double
    private let state: Mutex<State>
    /// Told every advance, with done and total (the daemon's job progress).
    private let onAdvance: (@Sendable (_ done: Int, _ total: Int) -> Void)?

    public init(label: String, total: Int, unit: String = "examples", output: Output,
                redrawInterval: Double = 0.1, logInterval: Double = 5,
                now: @escaping @Sendable () -> Double = { ProgressReporter.monotonicSeconds() },
                onAdvance: (@Sendable (_ done: Int, _ total: Int) -> Void)? = nil) {
        self.onAdvance = onAdvance
        self.label = label
        self.total = max(0, total)
        self.unit = unit
        self.output = output
        self.redrawInterval = redrawInterval
        self.logInterval = logInterval
        self.now = now
        let start = now()
        state = Mutex(State(start: start, lastOutput: start))
    }

    /// To standard error: the redrawn line when it is a terminal, log lines otherwise.
    public static func standardError(label: String, total: Int, unit: String = "examples") -> ProgressReporter {
        let write: @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }
        let output: Output = isatty(STDERR_FILENO) == 1 ? .terminal(write) : .log { write($0 + "\n") }
        return ProgressReporter(label: label, total: total, unit: unit, output: output)
    }

    public static func monotonicSeconds() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    /// `count` more items done.
    public func advance(by count: Int = 1) { record(count, free: false) }

    /// `count` items that needed no work (found in a cache): they count
    /// towards done/total but not towards the rate, so the ETA stays honest.
    public func skip(_ count: Int) { record(count, free: true) }

    /// Ends the line (terminal) or writes the summary (log). Once.
    public func finish() {
        let text: String? = state.withLock { state in
            guard !state.finished else { return nil }
            state.finished = true
            let elapsed = now() - state.start
            switch output {
            case .terminal: return "\r" + line(state, elapsed: elapsed) + "\u{1B}[K\n"
            case .log:
                let worked = state.done - state.free
                let rate = elapsed > 0 ? " (\(Self.format(rate: Double(worked) / elapsed)) \(unit)/s)" : ""
                return "\(label): done, \(state.done) \(unit) in \(Self.format(seconds: elapsed))\(rate)"
            }
        }
        if let text { emit(text) }
    }

    private func record(_ count: Int, free: Bool) {
        var doneNow = 0
        let text: String? = state.withLock { state in
            guard !state.finished, count > 0 else { return nil }
            state.done = min(total, state.done + count)
            doneNow = state.done
            if free { state.free = min(state.done, state.free + count) }
            let current = now()
            let interval: Double
            switch output {
            case .terminal: interval = redrawInterval
            case .log: interval = logInterval
            }
            guard current - state.lastOutput >= interval else { return nil }
            state.lastOutput = current
            switch output {
            case .terminal: return "\r" + line(state, elapsed: current - state.start) + "\u{1B}[K"
            case .log: return "\(label): " + line(state, elapsed: current - state.start, withLabel: false)
            }
        }
        if doneNow > 0 { onAdvance?(doneNow, total) }
        if let text { emit(text) }
    }

    private func emit(_ text: String) {
        switch output {
        case let .terminal(write), let .log(write): write(text)
        }
    }

    /// "features 1200/3000 40% 52.3 examples/s ETA 0:34".
    private func line(_ state: State, elapsed: Double, withLabel: Bool = true) -> String {
        let percent = total > 0 ? state.done * 100 / total : 100
        var parts = ["\(state.done)/\(total)", "\(percent)%"]
        let worked = state.done - state.free
        if elapsed > 0, worked > 0 {
            let rate = Double(worked) / elapsed
            parts.append("\(Self.format(rate: rate)) \(unit)/s")
            if state.done < total { parts.append("ETA " + Self.format(seconds: Double(total - state.done) / rate)) }
        }
        return (withLabel ? label + " " : "") + parts.joined(separator: " ")
    }

    static func format(rate: Double) -> String {
        rate >= 100 ? String(Int(rate.rounded())) : String(format: "%.1f", rate)
    }

    /// "0:34", "12:05", "1:02:03".
    static func format(seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let whole = Int(seconds.rounded())
        let (hours, minutes, rest) = (whole / 3600, whole / 60 % 60, whole % 60)
        let twoDigits = { (value: Int) in value < 10 ? "0\(value)" : "\(value)" }
        return hours > 0 ? "\(hours):\(twoDigits(minutes)):\(twoDigits(rest))" : "\(minutes):\(twoDigits(rest))"
    }
}
