import QuernFormats
import QuernJSON

/// The JSON files tokenizers are built from (`tokenizer.json`,
/// `vocab.json`, `tokenizer_config.json`), read through the one parser; an
/// unreadable or malformed file is a `TokenizerError` naming it.
enum TokenizerFile {
    static func json(_ path: String) throws(TokenizerError) -> JSONValue {
        do { return try JSONFile.read(path) } catch {
            throw TokenizerError(.invalidValue, error.description)
        }
    }
}
