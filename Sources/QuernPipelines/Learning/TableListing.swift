import Foundation

/// The examples of a `.jsonl`, `.csv` or `.tsv` file: each row's text (or
/// file, by a path relative to the data file's folder) and its label or
/// numeric target, from the columns `DatasetOptions` names.
///
/// Without a text or path column option, a `text` column is used when there
/// is one, else `path`, else `file`. Problems with the file's structure (a
/// missing column, a malformed line) are errors naming the line; a row whose
/// cells cannot be used (no label, a target that is not a number) is
/// skipped with its line.
enum TableListing {
    static func list(_ path: String, format: DataTable.Format, options: DatasetOptions, targetColumn: String?) throws(DatasetError) -> RawListing {
        let table = try DataTable.read(path, format: format)
        let file = (path as NSString).lastPathComponent
        let folder = (path as NSString).deletingLastPathComponent
        let input = try inputColumn(table, path: path, format: format, options: options)
        let targetName = targetColumn ?? options.labelColumn
        guard table.columns.contains(targetName) else {
            let role = targetColumn == nil ? "label column \"\(targetName)\"" : "target column \"\(targetName)\""
            throw DatasetError(.missingColumn, path: path,
                               "\(path) has no \(role) (its columns: \(describe(table.columns))); name the right one with --\(targetColumn == nil ? "label-column" : "target")")
        }
        var listing = RawListing()
        for row in table.rows {
            let origin = "\(file) line \(row.line)"
            let raw: RawExample.Input
            switch (input.isPath, row.cells[input.column]) {
            case let (false, .text(text)?):
                raw = .text(text)
            case let (true, .text(relative)?) where !relative.trimmingCharacters(in: .whitespaces).isEmpty:
                let trimmed = relative.trimmingCharacters(in: .whitespaces)
                raw = .file(trimmed.hasPrefix("/") ? trimmed : folder.isEmpty ? trimmed : folder + "/" + trimmed)
            case let (_, cell):
                let what = input.isPath ? "a file path" : "a text"
                listing.skipped.append(SkippedExample(origin: origin, reason: .noInput, detail: "column \"\(input.column)\" holds \(describe(cell)), not \(what)"))
                continue
            }
            let cell = row.cells[targetName]
            if targetColumn != nil {
                guard let value = number(cell) else {
                    listing.skipped.append(SkippedExample(origin: origin, reason: .invalidTarget,
                                                          detail: "column \"\(targetName)\" holds \(describe(cell)), not a finite number"))
                    continue
                }
                listing.examples.append(RawExample(input: raw, origin: origin, target: .value(value)))
            } else {
                guard let label = label(cell) else {
                    listing.skipped.append(SkippedExample(origin: origin, reason: .noLabel, detail: "column \"\(targetName)\" holds \(describe(cell)), not a label"))
                    continue
                }
                listing.examples.append(RawExample(input: raw, origin: origin, target: .label(label)))
            }
        }
        return listing
    }

    /// The column the inputs come from, and whether it holds paths.
    private static func inputColumn(_ table: DataTable, path: String, format: DataTable.Format, options: DatasetOptions) throws(DatasetError) -> (column: String, isPath: Bool) {
        if options.textColumn != nil && options.pathColumn != nil {
            throw DatasetError(.invalidOption, path: path, "give a text column or a path column, not both")
        }
        if let column = options.textColumn ?? options.pathColumn {
            guard table.columns.contains(column) else {
                throw DatasetError(.missingColumn, path: path, "\(path) has no column \"\(column)\" (its columns: \(describe(table.columns)))")
            }
            return (column, options.pathColumn != nil)
        }
        if table.columns.contains("text") { return ("text", false) }
        if let column = ["path", "file"].first(where: table.columns.contains) { return (column, true) }
        let headerless = format == .jsonl ? "" : "; a CSV or TSV file needs a header line naming its columns, e.g. text,label"
        throw DatasetError(.missingColumn, path: path,
                           "\(path) has no \"text\", \"path\" or \"file\" column (its columns: \(describe(table.columns))); name the input column with --text-column or --path-column\(headerless)")
    }

    /// A label as written: text trimmed, a number as its digits, a boolean
    /// as true/false; nil when empty or missing.
    private static func label(_ cell: DataTable.Cell?) -> String? {
        switch cell {
        case let .text(text)?:
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            return trimmed.isEmpty ? nil : trimmed
        case let .number(text)?: return text
        case let .bool(flag)?: return flag ? "true" : "false"
        default: return nil
        }
    }

    private static func number(_ cell: DataTable.Cell?) -> Double? {
        let text: String
        switch cell {
        case let .number(written)?: text = written
        case let .text(written)?: text = written.trimmingCharacters(in: .whitespaces)
        default: return nil
        }
        guard let value = Double(text), value.isFinite else { return nil }
        return value
    }

    private static func describe(_ cell: DataTable.Cell?) -> String {
        switch cell {
        case nil: return "nothing"
        case .null?: return "null"
        case let .text(text)?: return text.trimmingCharacters(in: .whitespaces).isEmpty ? "an empty string" : "\"\(text.prefix(40))\""
        case let .number(text)?: return "the number \(text)"
        case let .bool(flag)?: return "\(flag)"
        case let .other(type)?: return "an \(type)"
        }
    }

    private static func describe(_ columns: [String]) -> String {
        columns.isEmpty ? "none" : columns.map { "\"\($0)\"" }.joined(separator: ", ")
    }
}
