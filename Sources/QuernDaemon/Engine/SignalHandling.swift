#if canImport(Glibc)
import Glibc
#endif
import Dispatch

/// Turns SIGTERM and SIGINT into a graceful stop. The default actions are
/// ignored and the signals read through Dispatch, so they arrive on an
/// ordinary thread where taking locks is safe (unlike in a signal handler).
public enum SignalHandling {
    public static func install(stopping daemon: Daemon) -> [any DispatchSourceSignal] {
        signal(SIGPIPE, SIG_IGN)
        return [(SIGTERM, "SIGTERM"), (SIGINT, "SIGINT")].map { number, name in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { daemon.requestStop(exitCode: 0, reason: name) }
            source.resume()
            return source
        }
    }
}
