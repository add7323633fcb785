import QuernFormats

extension ModelError {
    /// Wraps a format error met while loading a model, keeping its code at
    /// the start of the message (`format.truncated: file: …`).
    public init(_ error: FormatError) {
        self.init(.invalidModelFile, "\(error.code): \(error.description)")
    }
}
