/// A `multipart/form-data` body (RFC 7578), as file uploads send it: named
/// parts, each a text field or a file with its file name.
public struct MultipartForm: Sendable {
    public struct Part: Sendable {
        public var name: String
        /// Set for a file part.
        public var fileName: String?
        public var contentType: String?
        public var body: [UInt8]

        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    public enum ParseError: Error, Sendable, CustomStringConvertible {
        case notMultipart(String)
        case malformed(String)

        public var description: String {
            switch self {
            case let .notMultipart(message), let .malformed(message): return message
            }
        }
    }

    public var parts: [Part]

    /// The first part named `name`.
    public func part(_ name: String) -> Part? { parts.first { $0.name == name } }

    /// Every part named `name` (repeated fields such as `timestamp_granularities[]`).
    public func parts(named name: String) -> [Part] { parts.filter { $0.name == name } }

    /// Parses `body` given the request's Content-Type header.
    public init(body: [UInt8], contentType: String?) throws(ParseError) {
        guard let contentType, let boundary = Self.boundary(in: contentType) else {
            throw .notMultipart("the body must be multipart/form-data with a boundary (got Content-Type: \(contentType ?? "none"))")
        }
        let delimiter = Array("--\(boundary)".utf8)
        var parts: [Part] = []
        guard var position = Self.find(delimiter, in: body, from: 0) else {
            throw .malformed("the multipart body has no boundary line --\(boundary)")
        }
        while true {
            position += delimiter.count
            // "--" after a delimiter closes the body.
            if position + 1 < body.count, body[position] == 0x2D, body[position + 1] == 0x2D { break }
            guard let lineEnd = Self.find([0x0D, 0x0A], in: body, from: position) else {
                throw .malformed("the multipart body ends inside a boundary line")
            }
            let headersStart = lineEnd + 2
            guard let headersEnd = Self.find([0x0D, 0x0A, 0x0D, 0x0A], in: body, from: headersStart) else {
                throw .malformed("a multipart part has no blank line after its headers")
            }
            let headerText = String(decoding: body[headersStart..<headersEnd], as: UTF8.self)
            let contentStart = headersEnd + 4
            guard let next = Self.find([0x0D, 0x0A] + delimiter, in: body, from: contentStart) else {
                throw .malformed("a multipart part is not closed by --\(boundary)")
            }
            parts.append(try Self.part(headers: headerText, body: Array(body[contentStart..<next])))
            position = next + 2
        }
        self.parts = parts
    }

    private static func part(headers: String, body: [UInt8]) throws(ParseError) -> Part {
        var name: String?
        var fileName: String?
        var contentType: String?
        for line in headers.split(separator: "\r\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let field = line[..<colon].trimmingWhitespace().lowercased()
            let value = String(line[line.index(after: colon)...]).trimmingWhitespace()
            if field == "content-type" { contentType = value }
            guard field == "content-disposition" else { continue }
            for parameter in value.split(separator: ";").dropFirst() {
                guard let equals = parameter.firstIndex(of: "=") else { continue }
                let key = parameter[..<equals].trimmingWhitespace().lowercased()
                var text = String(parameter[parameter.index(after: equals)...]).trimmingWhitespace()
                if text.count >= 2, text.hasPrefix("\""), text.hasSuffix("\"") { text = String(text.dropFirst().dropLast()) }
                if key == "name" { name = text }
                if key == "filename" { fileName = text }
            }
        }
        guard let name else { throw .malformed("a multipart part has no Content-Disposition name") }
        return Part(name: name, fileName: fileName, contentType: contentType, body: body)
    }

    static func boundary(in contentType: String) -> String? {
        let pieces = contentType.split(separator: ";")
        guard let kind = pieces.first, kind.trimmingWhitespace().lowercased() == "multipart/form-data" else { return nil }
        for piece in pieces.dropFirst() {
            guard let equals = piece.firstIndex(of: "=") else { continue }
            guard piece[..<equals].trimmingWhitespace().lowercased() == "boundary" else { continue }
            var value = String(piece[piece.index(after: equals)...]).trimmingWhitespace()
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            // RFC 2046: 1 to 70 characters.
            return (1...70).contains(value.utf8.count) ? value : nil
        }
        return nil
    }

    /// The first index of `needle` in `haystack` at or after `start`.
    static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard let first = needle.first, needle.count <= haystack.count else { return nil }
        var index = start
        let last = haystack.count - needle.count
        while index <= last {
            if haystack[index] == first {
                var matches = true
                for offset in 1..<needle.count where haystack[index + offset] != needle[offset] {
                    matches = false
                    break
                }
                if matches { return index }
            }
            index += 1
        }
        return nil
    }
}

extension StringProtocol {
    fileprivate func trimmingWhitespace() -> String {
        var scalars = Substring(self).unicodeScalars[...]
        while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        return String(String.UnicodeScalarView(scalars))
    }
}
