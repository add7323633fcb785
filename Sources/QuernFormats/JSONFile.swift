import QuernJSON

/// The JSON files of a model folder (`config.json`, `generation_config.json`,
/// the sentence-transformers files, …): read with `RegularFile`'s checks,
/// parsed by the one parser and decoded into the typed struct the caller
/// names. Every failure is a `FormatError` whose message names the file and
/// then either the line and column of bad syntax or the key path of a bad
/// value (`…/config.json: n_embd: expected an integer, got a string`).
public enum JSONFile {
    /// Config files are small; a bigger one is not a config.
    public static let maximumBytes = 64 << 20

    /// The parsed document.
    public static func read(_ path: String) throws(FormatError) -> JSONValue {
        let bytes = try RegularFile.read(path, limit: maximumBytes)
        return try parse(bytes, path: path)
    }

    /// The parsed document, or nil when the file does not exist.
    public static func readIfPresent(_ path: String) throws(FormatError) -> JSONValue? {
        guard let bytes = try RegularFile.readIfPresent(path, limit: maximumBytes) else { return nil }
        return try parse(bytes, path: path)
    }

    /// The file decoded as a `T`.
    public static func decode<T: Decodable>(_ type: T.Type, at path: String) throws(FormatError) -> T {
        try decode(type, from: read(path), path: path)
    }

    /// The file decoded as a `T`, or nil when the file does not exist (an
    /// optional file, such as `generation_config.json`). A file that exists
    /// but is broken is an error, never silently skipped.
    public static func decodeIfPresent<T: Decodable>(_ type: T.Type, at path: String) throws(FormatError) -> T? {
        guard let document = try readIfPresent(path) else { return nil }
        return try decode(type, from: document, path: path)
    }

    /// A document already parsed (or part of one) decoded as a `T`; `path`
    /// names the file in errors.
    public static func decode<T: Decodable>(_ type: T.Type, from document: JSONValue, path: String) throws(FormatError) -> T {
        do { return try document.decode(type) } catch {
            throw FormatError(.invalidValue, file: path, error.description)
        }
    }

    private static func parse(_ bytes: [UInt8], path: String) throws(FormatError) -> JSONValue {
        do { return try JSONParser.parse(bytes) } catch {
            throw FormatError(.invalidValue, file: path, "not valid JSON: \(error)")
        }
    }
}
