extension QuernError {
    /// The error of a model that cannot be loaded — a `FormatError` from its
    /// checkpoint reader, a `ModelError` from its config, a `TokenizerError`
    /// — as the pipelines report it: which model, where, and the loader's
    /// own message, which names the file and what is wrong in it.
    public init(loading model: String, at path: String, _ error: any Error) {
        self.init(.internalError, "cannot load the \(model) at \(path): \(error)")
    }
}
