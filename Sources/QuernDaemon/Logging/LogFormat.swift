import Foundation
import Logging
import QuernJSON

/// How a log line is written (`--log-format`).
public enum LogFormat: String, Sendable, CaseIterable {
    /// `time=… level=info msg=processed name=x.txt …`
    case logfmt
    /// `{"time":"…","level":"info","msg":"processed","name":"x.txt",…}`: the
    /// same fields, one JSON object per line.
    case json
}

/// One event as one line, in either format. Metadata keys are sorted so
/// lines of one kind line up and diff well.
public enum LogLine {
    /// The line for `event`, ending in a newline. `journal`: stderr is the
    /// systemd journal — the line starts with the sd-daemon priority prefix
    /// (`<3>`), so `journalctl -p err` filters it, and carries no timestamp,
    /// since the journal stamps every line itself.
    public static func render(level: Logger.Level, message: String, metadata: Logger.Metadata, format: LogFormat, journal: Bool,
                              time: Date = Date()) -> String {
        let prefix = journal ? "<\(priority(level))>" : ""
        let timestamp = journal ? nil : self.timestamp(time)
        switch format {
        case .logfmt:
            var line = prefix
            if let timestamp { line += "time=\(timestamp) " }
            line += "level=\(level) msg=\(quote(message))"
            for key in metadata.keys.sorted() {
                line += " \(key)=\(quote(flatten(metadata[key] ?? "")))"
            }
            return line + "\n"
        case .json:
            var members: [(key: String, value: JSONValue)] = []
            if let timestamp { members.append(("time", .string(timestamp))) }
            members.append(("level", .string(level.rawValue)))
            members.append(("msg", .string(message)))
            let reserved: Set<String> = ["time", "level", "msg"]
            for key in metadata.keys.sorted() {
                // A field may not repeat a key: JSON readers keep only one.
                let name = reserved.contains(key) ? "meta_" + key : key
                members.append((name, json(metadata[key] ?? "")))
            }
            return prefix + JSONWriter.string(.object(members), style: .compact) + "\n"
        }
    }

    /// sd-daemon(3)'s priorities, which are syslog's.
    public static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .critical: return 2
        case .error: return 3
        case .warning: return 4
        case .notice: return 5
        case .info: return 6
        case .debug, .trace: return 7
        }
    }

    private static func flatten(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case let .string(text): return text
        case let .stringConvertible(convertible): return convertible.description
        case let .array(values): return values.map(flatten).joined(separator: ",")
        case let .dictionary(entries): return entries.keys.sorted().map { "\($0):\(flatten(entries[$0] ?? ""))" }.joined(separator: ",")
        }
    }

    private static func json(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case let .string(text): return .string(text)
        case let .stringConvertible(convertible): return .string(convertible.description)
        case let .array(values): return .array(values.map(json))
        case let .dictionary(entries): return .object(entries.keys.sorted().map { ($0, json(entries[$0] ?? "")) })
        }
    }

    /// Bare when safe, otherwise quoted with `"`, `\` and control characters escaped
    /// (file names may hold newlines; one event must stay one line).
    static func quote(_ text: String) -> String {
        let safe = !text.isEmpty && text.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F && $0 != "\"" && $0 != "=" && $0 != "\\" }
        if safe { return text }
        return QuotedText.quoted(text)
    }

    private static func timestamp(_ date: Date) -> String {
        var style = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        style.timeZone = TimeZone(identifier: "UTC") ?? style.timeZone
        return date.formatted(style)
    }
}
