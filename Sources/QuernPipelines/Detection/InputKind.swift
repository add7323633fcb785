/// What a file was found to be, by its content.
public enum InputKind: String, Sendable, CaseIterable {
    /// UTF-8 text (`.txt`, `.md`, anything else that decodes).
    case text
    /// A PNG or JPEG image.
    case image
    /// Audio libsndfile can open (WAV, FLAC, OGG, AIFF, …).
    case audio
    /// A JSON request object choosing the task and its parameters.
    case request
    /// Not inspected or not recognised: empty, unreadable, not a regular file,
    /// or bytes that are none of the above.
    case unknown
}
