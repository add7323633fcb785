/// Where an HTTP server listens: `HOST:PORT`, as `--metrics-listen` takes it.
/// HOST is an IPv4 address, a host name, or an IPv6 address in brackets
/// (`[::1]:9464`); PORT is 0 to 65535, 0 meaning any free port (the bound
/// one is logged). Parsing checks the shape only; whether the host resolves
/// and the port is free is known when the server binds.
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    public let host: String
    public let port: Int

    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        var host = String(text[..<colon])
        let portText = text[text.index(after: colon)...]
        guard !portText.isEmpty, portText.allSatisfy({ $0.isASCII && $0.isNumber }), portText.count <= 5,
              let port = Int(portText), (0...65535).contains(port) else { return nil }
        if host.hasPrefix("[") {
            // An IPv6 literal: brackets keep its colons apart from the port's.
            guard host.hasSuffix("]"), host.count > 2 else { return nil }
            host = String(host.dropFirst().dropLast())
            guard host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }), host.contains(":") else { return nil }
        } else {
            // A host name or an IPv4 address; a bare IPv6 address is ambiguous.
            guard !host.isEmpty, host.count <= 253,
                  host.unicodeScalars.allSatisfy({ ($0.isASCIIAlphanumeric) || $0 == "." || $0 == "-" }),
                  !host.hasPrefix("-"), !host.hasPrefix(".") else { return nil }
        }
        self.host = host
        self.port = port
    }

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// As it is written on the command line (IPv6 in brackets).
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Whether only this machine can connect: localhost, 127.0.0.0/8 or ::1.
    public var isLoopback: Bool {
        host == "localhost" || host.hasPrefix("127.") || host == "::1"
    }

    /// What a valid value looks like, for option errors.
    public static let expected = "HOST:PORT with a port from 0 to 65535 (e.g. 127.0.0.1:9464, localhost:0 or [::1]:9464)"
}

extension Unicode.Scalar {
    fileprivate var isASCIIAlphanumeric: Bool {
        ("a"..."z").contains(self) || ("A"..."Z").contains(self) || ("0"..."9").contains(self)
    }
}
