import Logging
import PostgresNIO

extension QueueLocation {
    /// A pooled client for this location. It must be run (`client.run()` in
    /// a task) while it is used.
    public func makeClient(password: String?, logger: Logger) -> PostgresClient {
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
        return PostgresClient(configuration: configuration, backgroundLogger: logger)
    }
}
