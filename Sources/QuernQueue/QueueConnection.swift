import Logging
import PostgresNIO

extension QueueLocation {
    /// A pooled client for this location. It must be run (`client.run()` in
    /// a task) while it is used.
    /// TODO(queue branch): sslmode=require (needs swift-nio-ssl's TLSConfiguration).
    public func makeClient(password: String?, logger: Logger) throws(QueueError) -> PostgresClient {
        let configuration: PostgresClient.Configuration
        switch endpoint {
        case .unixSocket:
            configuration = .init(unixSocketPath: socketPath ?? "", username: user, password: password, database: database)
        case let .tcp(host, port):
            guard tls == .disable else { throw QueueError(.badLocation, "sslmode=require is not supported yet") }
            configuration = .init(host: host, port: port, username: user, password: password, database: database, tls: .disable)
        }
        return PostgresClient(configuration: configuration, backgroundLogger: logger)
    }
}
