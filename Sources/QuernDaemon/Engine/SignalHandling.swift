#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Synchronization

/// What `quern serve` does with the signals a terminal, an SSH session,
/// systemd or an operator sends by routine. None of them kills the daemon
/// mid-file (which would charge the file an attempt as if it had crashed it):
///
/// | signal | action |
/// | --- | --- |
/// | SIGTERM, SIGINT | stop gracefully (exit 0) |
/// | SIGHUP | read the configuration again, apply what can change live, re-open the log file |
/// | SIGUSR1 | re-open the log file only (logrotate's `postrotate`) |
/// | SIGUSR2 | ignored |
/// | SIGPIPE | ignored (a closed reader is an EPIPE error where it happens) |
/// | SIGTTOU, SIGTTIN | ignored: a daemon started in the background of a terminal with `stty tostop` keeps logging instead of being frozen |
/// | SIGTSTP (Ctrl-Z), SIGQUIT (Ctrl-\\) | their defaults: asked for by the person at the terminal |
///
/// The handled signals' default actions are ignored and the signals read
/// through Dispatch, so the work runs on an ordinary thread where taking
/// locks and doing I/O is safe (unlike in a signal handler).
public final class SignalHandling: Sendable {
    public struct Actions: Sendable {
        public var stop: @Sendable (_ reason: String) -> Void
        public var reload: @Sendable () -> Void
        public var reopenLog: @Sendable () -> Void

        public init(stop: @escaping @Sendable (String) -> Void, reload: @escaping @Sendable () -> Void, reopenLog: @escaping @Sendable () -> Void) {
            self.stop = stop
            self.reload = reload
            self.reopenLog = reopenLog
        }
    }

    private enum Request {
        case reload, reopenLog
    }

    private struct State {
        var actions: Actions?
        /// Asked for before the daemon could act (while models load); done on `attach`.
        var pending: [Request] = []
    }

    private let queue = DispatchQueue(label: "quern-signals")
    private let state = Mutex(State())
    /// Kept alive for the process's lifetime; Dispatch calls them on `queue`.
    private let sources = Mutex<[any DispatchSourceSignal]>([])

    /// Call first thing in `serve`: from here on SIGHUP and SIGUSR1 cannot
    /// kill the process, even while models load (a reload asked for then
    /// happens once the daemon runs). SIGTERM and SIGINT keep their default,
    /// an immediate exit, until `attach`.
    public init() {
        for number in [SIGPIPE, SIGUSR2, SIGTTOU, SIGTTIN] { signal(number, SIG_IGN) }
        for (number, request) in [(SIGHUP, Request.reload), (SIGUSR1, Request.reopenLog)] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { [weak self] in self?.handle(request) }
            source.resume()
            sources.withLock { $0.append(source) }
        }
    }

    /// Hands the signals to the running daemon: SIGTERM/SIGINT stop it,
    /// SIGHUP reloads, SIGUSR1 re-opens the log.
    public func attach(_ actions: Actions) {
        let pending = state.withLock { state -> [Request] in
            state.actions = actions
            defer { state.pending = [] }
            return state.pending
        }
        for (number, name) in [(SIGTERM, "SIGTERM"), (SIGINT, "SIGINT")] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { actions.stop(name) }
            source.resume()
            sources.withLock { $0.append(source) }
        }
        queue.async { [self] in for request in pending { run(request, actions) } }
    }

    private func handle(_ request: Request) {
        let actions = state.withLock { state -> Actions? in
            if state.actions == nil, !state.pending.contains(where: { $0 == request }) { state.pending.append(request) }
            return state.actions
        }
        if let actions { run(request, actions) }
    }

    private func run(_ request: Request, _ actions: Actions) {
        switch request {
        case .reload: actions.reload()
        case .reopenLog: actions.reopenLog()
        }
    }
}
