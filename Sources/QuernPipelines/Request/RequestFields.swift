/// Which fields each task accepts. A field outside the task's set is an error
/// naming it: a typo such as `max_token` must not be silently ignored.
enum RequestFields {
    static let common: Set<String> = ["task", "model"]
    static let sampling: Set<String> = [
        "max_tokens", "max_completion_tokens", "temperature", "top_k", "top_p", "min_p", "repetition_penalty", "presence_penalty", "frequency_penalty", "seed", "stop",
    ]
    /// OpenAI request fields for chat and completions beyond sampling.
    static let openAIGeneration: Set<String> = ["n", "stream", "stream_options", "user"]

    static func allowed(for task: TaskName) -> Set<String> {
        switch task {
        case .chat: return common.union(sampling).union(openAIGeneration).union(["messages", "conversation"])
        case .complete: return common.union(sampling).union(openAIGeneration).union(["prompt"])
        case .embed: return common.union(["input", "truncate", "heads", "encoding_format", "dimensions", "user", "precision"])
        case .classify: return common.union(["input", "top_k", "threshold", "heads", "precision"])
        case .transcribe: return common.union(["input", "subtitles", "word_timestamps", "transcript_files", "heads", "precision",
                                               "response_format", "timestamp_granularities", "language"])
        // No `model`: training reads the loaded feature models.
        case .train: return Set(["task", "data", "test", "name"] + TrainingParameters.keys)
        case .forget: return ["task", "conversation"]
        }
    }

    static let known: Set<String> = TaskName.allCases.reduce(into: Set<String>()) { $0.formUnion(allowed(for: $1)) }

    /// The known field closest to a misspelt one, if it is close enough to be a typo.
    static func suggestion(for field: String) -> String? {
        ClosestName.suggestion(for: field, among: known)
    }
}
