import QuernMedia

/// The stable machine codes of error results. Scripts match on these, so a
/// code is never renamed or reused; new ones may be added.
/// The list is mirrored in `schemas/result-v1.schema.json`.
public enum ErrorCode: String, Sendable, CaseIterable {
    // The file itself.
    case inputEmpty = "input.empty"
    case inputTooLarge = "input.too_large"
    case inputNotUTF8 = "input.not_utf8"
    case inputCorrupt = "input.corrupt"
    case inputUnrecognized = "input.unrecognized"
    case inputUnreadable = "input.unreadable"
    case inputSymlink = "input.symlink"
    case inputDirectory = "input.directory"
    case inputNotRegularFile = "input.not_regular_file"
    // A `.json` request.
    case requestInvalidJSON = "request.invalid_json"
    case requestNotObject = "request.not_object"
    case requestUnknownField = "request.unknown_field"
    case requestWrongType = "request.wrong_type"
    case requestMissingField = "request.missing_field"
    case requestInvalidValue = "request.invalid_value"
    case requestFieldNotApplicable = "request.field_not_applicable"
    /// A path in a request (a `train` request's dataset) outside the folders
    /// the operator allowed.
    case requestForbiddenPath = "request.forbidden_path"
    // Running it.
    case unsupported = "unsupported"
    case timeout = "timeout"
    case pipelineFailed = "pipeline.failed"
    case cancelled = "cancelled"
    case internalError = "internal"
    // A `train` task: a dataset that cannot be trained on (too few
    // examples of a class, mixed kinds, a missing column…), or training
    // that failed (diverged…).
    case trainingInvalidDataset = "training.invalid_dataset"
    case trainingFailed = "training.failed"
    // The conversation's newest message alone does not fit the model's context.
    case contextTooLong = "context.too_long"
    // The HTTP API only (never in a result file): the daemon cannot take the
    // request now (its model's queue is full, the memory budget is spent,
    // it is starting or stopping): retry later. And a missing or wrong API key.
    case unavailable = "unavailable"
    case authInvalidAPIKey = "auth.invalid_api_key"
}

/// An error that becomes an error result: a stable code plus a message that
/// says what was wrong and, where it can, what to do about it.
public struct QuernError: Error, Sendable, Equatable, CustomStringConvertible {
    public let code: ErrorCode
    public let message: String

    public init(_ code: ErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}

extension QuernError {
    /// The result error for a media decoding failure, by kind; `unrecognized`
    /// says what the file turned out not to be (e.g. "not a PNG image").
    public init(decoding error: MediaError, unrecognized: String) {
        switch error.kind {
        case .unrecognized: self.init(.inputUnrecognized, "\(unrecognized): \(error.message)")
        case .corrupt: self.init(.inputCorrupt, error.message)
        case .tooLarge: self.init(.inputTooLarge, error.message)
        case .empty: self.init(.inputEmpty, error.message)
        case .unsupported: self.init(.unsupported, error.message)
        }
    }
}
