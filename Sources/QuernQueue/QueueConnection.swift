import Logging
import PostgresNIO

extension QueueLocation {
    /// A pooled client for this location. It must be run (`client.run()` in
    /// a task) while it is used. `durable: false` commits without waiting
    /// for the WAL flush (`synchronous_commit = off`): for the statements
    /// whose loss in a server crash only makes a job run again (claims,
    /// renewals, ends — results are idempotent), never for enqueueing.
    public func makeClient(password: String?, logger: Logger, durable: Bool = true) -> PostgresClient {
        var configuration: PostgresClient.Configuration
        switch endpoint {
        case .unixSocket:
            configuration = .init(unixSocketPath: socketPath ?? "", username: user, password: password, database: database)
        case let .tcp(host, port):
            // `require` verifies the server's certificate against the system's
            // trust store and its name against the host (libpq's verify-full):
            // the queue carries users' files.
            let tls: PostgresClient.Configuration.TLS = self.tls == .require ? .require(.makeClientConfiguration()) : .disable
            configuration = .init(host: host, port: port, username: user, password: password, database: database, tls: tls)
        }
        configuration.options.connectTimeout = .seconds(5)
        if !durable { configuration.options.additionalStartupParameters = [("synchronous_commit", "off")] }
        return PostgresClient(configuration: configuration, backgroundLogger: logger)
    }
}
