import QuernFormats

/// The choices a config file makes that change what a model computes
/// (`model_type`, the activation, the position encoding), checked against
/// the one each model file implements: anything else is refused at load,
/// never run as if it were the supported choice.
enum SupportedChoice {
    /// Refuses a declared `model_type` other than `expected` (none declared is fine).
    static func modelType(_ declared: String?, _ expected: String, file: String) throws(FormatError) {
        if let declared, declared != expected {
            throw FormatError(.unsupportedType, file: file, "model_type \"\(declared)\" is not \(expected)")
        }
    }

    /// Refuses `value` of `key` (the file's, or the reference default when it
    /// gives none) unless it is `supported`; `description` says it in the message.
    static func require(_ key: String, _ value: String, is supported: String, described description: String? = nil, file: String) throws(FormatError) {
        guard value == supported else {
            throw FormatError(.unsupportedType, file: file, "\(key) \"\(value)\" is not supported (\(description ?? supported) is)")
        }
    }

    /// erf GELU, the form `gelu` means in transformers.
    static func gelu(_ key: String, _ value: String?, file: String) throws(FormatError) {
        try require(key, value ?? "gelu", is: "gelu", described: "gelu, the erf form,", file: file)
    }
}
