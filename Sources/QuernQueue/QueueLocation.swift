import Foundation

/// Where the queue lives: a `postgres://` URL as libpq takes it (the subset
/// a worker needs), e.g. `postgres://quern@db.example/quern?sslmode=require`
/// or, on one machine, `postgres://quern@/quern?host=/run/postgresql`.
/// A password never comes from the URL: it comes from `--queue-password-file`
/// or the libpq password file (`PGPASSFILE`, ~/.pgpass), so it stays out of
/// process listings and configuration files.
public struct QueueLocation: Sendable, Equatable, CustomStringConvertible {
    public enum Endpoint: Sendable, Equatable {
        case tcp(host: String, port: Int)
        /// The server's socket folder (libpq's `host=/dir`); the socket is `.s.PGSQL.<port>` in it.
        case unixSocket(folder: String, port: Int)
    }

    public enum TLSMode: String, Sendable {
        /// `sslmode=disable` (and the only mode of a Unix socket).
        case disable
        /// `sslmode=require`, `verify-ca` and `verify-full` all verify here:
        /// a queue that carries users' files is not trusted unverified.
        case require
    }

    public var endpoint: Endpoint
    public var user: String
    public var database: String
    public var tls: TLSMode

    /// The socket file of a Unix-socket endpoint.
    public var socketPath: String? {
        guard case let .unixSocket(folder, port) = endpoint else { return nil }
        return folder + "/.s.PGSQL.\(port)"
    }

    /// Parses the URL; the error says what is wrong and how it should look.
    public init(_ text: String) throws(QueueError) {
        guard let components = URLComponents(string: text), let scheme = components.scheme, ["postgres", "postgresql"].contains(scheme) else {
            throw QueueError(.badLocation, "\"\(text)\" is not a postgres:// URL (e.g. postgres://quern@db.example/quern or postgres://quern@/quern?host=/run/postgresql)")
        }
        if components.password != nil {
            throw QueueError(.badLocation, "the queue URL carries a password: put it in --queue-password-file or the PGPASSFILE file instead, so it stays out of process listings")
        }
        var query: [String: String] = [:]
        for item in components.queryItems ?? [] {
            guard let value = item.value else { throw QueueError(.badLocation, "queue URL parameter \"\(item.name)\" has no value") }
            query[item.name] = value
        }
        if let unknown = query.keys.sorted().first(where: { !["host", "port", "sslmode"].contains($0) }) {
            throw QueueError(.badLocation, "queue URL parameter \"\(unknown)\" is not supported (host, port, sslmode)")
        }
        let port = try Self.port(query["port"] ?? components.port.map(String.init) ?? "5432")
        let host = query["host"] ?? components.host ?? ""
        if host.hasPrefix("/") {
            endpoint = .unixSocket(folder: host, port: port)
        } else if !host.isEmpty {
            endpoint = .tcp(host: host, port: port)
        } else {
            endpoint = .unixSocket(folder: "/var/run/postgresql", port: port)
        }
        user = components.user ?? ProcessInfo.processInfo.environment["USER"] ?? "postgres"
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        database = path.isEmpty ? user : path
        switch query["sslmode"] ?? "disable" {
        case "disable", "allow", "prefer": tls = .disable
        case "require", "verify-ca", "verify-full": tls = .require
        case let other: throw QueueError(.badLocation, "sslmode \"\(other)\" is not one of: disable, require, verify-ca, verify-full")
        }
        if tls == .require, case .unixSocket = endpoint {
            throw QueueError(.badLocation, "sslmode=require over a Unix socket: TLS is for TCP connections; leave sslmode out or give a host name")
        }
    }

    private static func port(_ text: String) throws(QueueError) -> Int {
        guard let port = Int(text), (1...65535).contains(port) else { throw QueueError(.badLocation, "queue port \"\(text)\" is not a number from 1 to 65535") }
        return port
    }

    /// Refuses at once a Unix socket that is not there (instead of the
    /// client pool's retries until its circuit breaker trips, 15 s later).
    public func checkReachable() throws(QueueError) {
        guard let socketPath, !FileManager.default.fileExists(atPath: socketPath) else { return }
        throw QueueError(.unreachable, "no PostgreSQL server listens at \(socketPath) (is it running, and is host= its socket folder?)")
    }

    /// The URL without secrets, for logs.
    public var description: String {
        switch endpoint {
        case let .tcp(host, port): return "postgres://\(user)@\(host):\(port)/\(database)\(tls == .require ? "?sslmode=require" : "")"
        case let .unixSocket(folder, port): return "postgres://\(user)@/\(database)?host=\(folder)&port=\(port)"
        }
    }
}
