import Foundation

/// The queue's password: from `--queue-password-file` (the whole first line),
/// else from the libpq password file (`PGPASSFILE`, default `~/.pgpass`),
/// whose lines are `host:port:database:user:password` with `*` matching
/// anything and `\:` / `\\` escaping. None: the server must not ask for one
/// (trust or peer authentication on a local socket).
public enum QueuePassword {
    public static func resolve(file: String?, for location: QueueLocation,
                               environment: [String: String] = ProcessInfo.processInfo.environment) throws(QueueError) -> String? {
        if let file {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw QueueError(.badLocation, "cannot read the queue password file \(file)")
            }
            let line = text.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
            guard !line.isEmpty else { throw QueueError(.badLocation, "the queue password file \(file) is empty") }
            return line
        }
        let path = environment["PGPASSFILE"] ?? (environment["HOME"].map { $0 + "/.pgpass" } ?? "")
        guard !path.isEmpty, let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return lookup(text, location: location)
    }

    /// The password of the first line that matches (libpq's rule).
    static func lookup(_ text: String, location: QueueLocation) -> String? {
        let (host, port): (String, Int)
        switch location.endpoint {
        case let .tcp(name, number): (host, port) = (name, number)
        // libpq matches a socket connection as "localhost".
        case let .unixSocket(_, number): (host, port) = ("localhost", number)
        }
        let wanted = [host, String(port), location.database, location.user]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let fields = split(String(line))
            guard fields.count == 5 else { continue }
            if zip(fields.prefix(4), wanted).allSatisfy({ $0 == "*" || $0 == $1 }) { return fields[4] }
        }
        return nil
    }

    private static func split(_ line: String) -> [String] {
        var fields: [String] = []
        var current = ""
        var escaped = false
        for character in line {
            if escaped {
                current.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == ":", fields.count < 4 {
                fields.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        fields.append(current)
        return fields
    }
}
