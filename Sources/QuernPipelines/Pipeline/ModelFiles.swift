import QuernTensor

/// The state of the model files the loaded pipelines have mapped.
public enum ModelFiles {
    /// Mapped model files truncated in place since they were loaded: touching
    /// their missing pages would kill the process with SIGBUS.
    public static func truncated() -> [String] { MappedFile.truncatedFiles() }
}
