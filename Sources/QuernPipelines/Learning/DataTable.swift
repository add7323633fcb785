import Foundation
import QuernFormats
import QuernJSON

/// A `.jsonl`, `.csv` or `.tsv` dataset file as rows of named cells.
///
/// - JSONL: one JSON object per line (blank lines skipped); its members are
///   the columns. Numbers and booleans are kept as written, so a label of
///   `3` and one of `"3"` are the same class.
/// - CSV (RFC 4180, see `CSVRecords`) and TSV (every line split at tabs, no
///   quoting: what `cut`/`paste` and most exports write) need a header line
///   naming the columns: a file without one is refused with the header to
///   add, because guessing whether the first row is data would silently
///   drop or invent an example. Every row must have the header's number of
///   fields.
struct DataTable {
    enum Cell: Equatable {
        case text(String)
        case number(String)
        case bool(Bool)
        case null
        /// A JSON array or object, by its type name.
        case other(String)
    }

    struct Row {
        /// 1-based, of the row's first line.
        var line: Int
        var cells: [String: Cell]
    }

    enum Format: String {
        case jsonl, csv, tsv

        /// By the file name's extension (`.ndjson` is JSONL too).
        init?(path: String) {
            switch (path as NSString).pathExtension.lowercased() {
            case "jsonl", "ndjson": self = .jsonl
            case "csv": self = .csv
            case "tsv": self = .tsv
            default: return nil
            }
        }
    }

    /// Column names, in the order first seen.
    var columns: [String]
    var rows: [Row]

    /// Dataset files may be far larger than a dropped file (20 Newsgroups'
    /// training set is 20 MB); this only bounds a hostile one.
    static let byteLimit = 4 << 30

    static func read(_ path: String, format: Format) throws(DatasetError) -> DataTable {
        let bytes: [UInt8]
        do { bytes = try RegularFile.read(path, limit: byteLimit) } catch {
            throw DatasetError(.unreadable, path: path, "cannot read \(path): \(error.message)")
        }
        let text = try utf8Text(bytes, path: path)
        switch format {
        case .jsonl: return try jsonLines(text, path: path)
        case .csv: return try withHeader(try CSVRecords.parse(Array(text.utf8), file: path), path: path, separator: ",")
        case .tsv: return try withHeader(tabSeparated(text), path: path, separator: "\t")
        }
    }

    /// The file as text: UTF-8 (a byte-order mark removed), or an error
    /// naming the line of the first bad byte.
    private static func utf8Text(_ bytes: [UInt8], path: String) throws(DatasetError) -> String {
        switch TextProbe.classify(bytes) {
        case let .utf8(text): return text
        case let .otherEncoding(offset, detail):
            let line = bytes.prefix(offset).reduce(1) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
            let why = detail.isEmpty ? "byte \(offset) is not UTF-8" : detail
            throw DatasetError(.malformed, path: path, line: line, "\(path) line \(line): \(why); convert the file to UTF-8 (e.g. iconv -t UTF-8)")
        case .binary:
            throw DatasetError(.malformed, path: path, "\(path) is binary data, not a UTF-8 text table")
        }
    }

    private static func jsonLines(_ text: String, path: String) throws(DatasetError) -> DataTable {
        var columns: [String] = [], seen: Set<String> = []
        var rows: [Row] = []
        for (offset, content) in lines(text).enumerated() {
            let number = offset + 1
            if content.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) { continue }
            let value: JSONValue
            do { value = try JSONParser.parse(Array(content)) } catch {
                throw DatasetError(.malformed, path: path, line: number, "\(path) line \(number): not valid JSON (\(error)); each line must be one JSON object")
            }
            guard let members = value.objectValue else {
                throw DatasetError(.malformed, path: path, line: number,
                                   "\(path) line \(number): a JSON \(value.typeName), not an object; each line must be one object such as {\"text\": \"…\", \"label\": \"…\"}")
            }
            var cells: [String: Cell] = [:]
            for (key, member) in members {
                cells[key] = cell(member)
                if seen.insert(key).inserted { columns.append(key) }
            }
            rows.append(Row(line: number, cells: cells))
        }
        return DataTable(columns: columns, rows: rows)
    }

    private static func cell(_ value: JSONValue) -> Cell {
        switch value {
        case .null: return .null
        case let .bool(flag): return .bool(flag)
        case let .number(text): return .number(text)
        case let .string(text): return .text(text)
        case .array, .object: return .other(value.typeName)
        }
    }

    /// Lines split at tabs; blank lines skipped.
    private static func tabSeparated(_ text: String) -> [CSVRecords.Record] {
        var records: [CSVRecords.Record] = []
        for (offset, content) in lines(text).enumerated() where !content.isEmpty {
            let fields = content.split(separator: UInt8(ascii: "\t"), omittingEmptySubsequences: false)
            records.append(CSVRecords.Record(line: offset + 1, fields: fields.map { String(decoding: $0, as: UTF8.self) }))
        }
        return records
    }

    /// The text's lines as UTF-8 bytes, without their LF or CRLF. Split on
    /// bytes: to Swift's `String`, CR LF is one character, not a "\n".
    private static func lines(_ text: String) -> [ArraySlice<UInt8>] {
        Array(text.utf8).split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { line in
            line.last == UInt8(ascii: "\r") ? line.dropLast() : line
        }
    }

    private static func withHeader(_ records: [CSVRecords.Record], path: String, separator: String) throws(DatasetError) -> DataTable {
        guard let header = records.first else {
            throw DatasetError(.empty, path: path, "\(path) holds no rows; it needs a header line (e.g. text\(separator)label) and one row per example")
        }
        let columns = header.fields.map { $0.trimmingCharacters(in: .whitespaces) }
        var seen: Set<String> = []
        for column in columns where !seen.insert(column).inserted {
            throw DatasetError(.malformed, path: path, line: header.line, "\(path) line \(header.line): the header names column \"\(column)\" twice; rename one")
        }
        var rows: [Row] = []
        for record in records.dropFirst() {
            guard record.fields.count == columns.count else {
                let hint = separator == "," ? " (quote a field that contains a comma: \"a, b\")" : " (a text with a tab in it needs the CSV format, which can quote it)"
                throw DatasetError(.malformed, path: path, line: record.line,
                                   "\(path) line \(record.line): \(record.fields.count) fields where the header has \(columns.count)\(hint)")
            }
            var cells: [String: Cell] = [:]
            for (column, field) in zip(columns, record.fields) { cells[column] = .text(field) }
            rows.append(Row(line: record.line, cells: cells))
        }
        return DataTable(columns: columns, rows: rows)
    }
}
