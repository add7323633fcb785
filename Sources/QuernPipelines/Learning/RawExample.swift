/// An example as its source lists it, before its file is read and its kind
/// and label checked.
struct RawExample {
    enum Input {
        case text(String)
        case file(String)
    }

    enum Target {
        case label(String)
        case value(Double)
    }

    var input: Input
    /// A file path, or "data.csv line 12".
    var origin: String
    var target: Target
}

/// What a source found: the examples it could list and those it could not.
struct RawListing {
    var examples: [RawExample] = []
    var skipped: [SkippedExample] = []
}
