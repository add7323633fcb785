import Synchronization

/// The part of the daemon's configuration a SIGHUP can change while it
/// runs; the options behind it are marked `onReload: .applied` in
/// `DaemonOptions`. Everything else is read once at start (the watcher,
/// the lanes, the pipelines and their limits hold it) and needs a restart.
public struct ReloadableSettings: Sendable, Equatable {
    /// How long SIGTERM waits for a running inference.
    public var shutdownGrace: Duration

    public init(shutdownGrace: Duration) {
        self.shutdownGrace = shutdownGrace
    }

    public init(_ configuration: DaemonConfiguration) {
        shutdownGrace = configuration.shutdownGrace
    }
}

extension Daemon {
    /// Takes a reloaded configuration's live settings (any thread).
    public func apply(reloaded settings: ReloadableSettings) {
        reloadable.withLock { $0 = settings }
    }

    /// The shutdown grace in force now.
    var shutdownGrace: Duration { reloadable.withLock { $0.shutdownGrace } }
}
