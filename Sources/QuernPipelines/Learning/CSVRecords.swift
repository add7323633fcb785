/// RFC 4180 records: fields separated by commas, records by CRLF or LF; a
/// field in double quotes may hold commas, line breaks and doubled quotes
/// (`""` is one `"`). Leniencies, as spreadsheets write files: a quote
/// inside an unquoted field is kept as a character, and blank lines are
/// skipped. The parse runs over UTF-8 bytes — the delimiters are ASCII, so
/// no multi-byte character is ever split.
enum CSVRecords {
    struct Record: Equatable {
        /// The 1-based line the record starts on.
        var line: Int
        var fields: [String]
    }

    /// Every record of `bytes`; a quoted field that is never closed, or a
    /// closing quote followed by anything but a comma or a line break, is an
    /// error naming its line.
    static func parse(_ bytes: [UInt8], file: String) throws(DatasetError) -> [Record] {
        let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), newline = UInt8(ascii: "\n"), carriageReturn = UInt8(ascii: "\r")
        var records: [Record] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var line = 1, recordLine = 1
        var index = 0
        var atFieldStart = true

        func endField() {
            fields.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
            atFieldStart = true
        }
        func endRecord() {
            endField()
            // A blank line is one empty field: no record.
            if !(fields.count == 1 && fields[0].isEmpty) { records.append(Record(line: recordLine, fields: fields)) }
            fields.removeAll(keepingCapacity: true)
        }

        while index < bytes.count {
            let byte = bytes[index]
            if atFieldStart && byte == quote {
                // A quoted field: up to the quote that is not doubled.
                let startLine = line
                index += 1
                var closed = false
                while index < bytes.count {
                    let inner = bytes[index]
                    if inner == quote {
                        if index + 1 < bytes.count && bytes[index + 1] == quote {
                            field.append(quote)
                            index += 2
                            continue
                        }
                        closed = true
                        index += 1
                        break
                    }
                    if inner == newline { line += 1 }
                    field.append(inner)
                    index += 1
                }
                guard closed else {
                    throw DatasetError(.malformed, path: file, line: startLine,
                                       "\(file) line \(startLine): a quoted field is never closed; end it with a \" (a quote inside a quoted field is written \"\")")
                }
                atFieldStart = false
                let next = index < bytes.count ? bytes[index] : newline
                let endsLine = next == newline || (next == carriageReturn && (index + 1 == bytes.count || bytes[index + 1] == newline))
                guard next == comma || endsLine else {
                    let shown = String(decoding: [next], as: UTF8.self)
                    throw DatasetError(.malformed, path: file, line: line,
                                       "\(file) line \(line): a quoted field is followed by \"\(shown)\", not a comma or the line's end; a quote inside a quoted field is written \"\"")
                }
                continue
            }
            atFieldStart = false
            switch byte {
            case comma:
                endField()
                index += 1
            case newline:
                endRecord()
                line += 1
                recordLine = line
                index += 1
            case carriageReturn where index + 1 < bytes.count && bytes[index + 1] == newline:
                index += 1
            case carriageReturn where index + 1 == bytes.count:
                index += 1
            default:
                field.append(byte)
                index += 1
            }
        }
        if !fields.isEmpty || !field.isEmpty || !atFieldStart { endRecord() }
        return records
    }
}
