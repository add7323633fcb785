import Foundation
import QuernJSON
import QuernLearning
import QuernModels
import QuernTensor

/// Turns the bytes of a `.json` request into a validated `Job`. Every error
/// names the offending field (`messages[1].role`, `temperature`, …).
public enum RequestParser {
    public static func parse(_ bytes: [UInt8]) throws(QuernError) -> Job {
        let document: JSONValue
        do {
            document = try JSONParser.parse(bytes)
        } catch {
            throw QuernError(.requestInvalidJSON, "the request is not valid JSON: \(error)")
        }
        return try parse(document)
    }

    public static func parse(_ document: JSONValue) throws(QuernError) -> Job {
        guard case let .object(members) = document else {
            throw QuernError(.requestNotObject, "a request must be a JSON object, got \(document.typeName)")
        }
        let fields = Fields(members)
        let task = try taskName(fields)
        try checkFieldNames(members, task: task)
        let model = try fields.optionalString("model")

        switch task {
        case .chat:
            var job = try generationJob(.chat(messages: try messages(fields), sampling: try sampling(fields)), model: model, fields: fields)
            job.conversation = try conversationID(fields, required: false)
            if job.conversation != nil, job.choices > 1 {
                throw QuernError(.requestInvalidValue, "field \"n\": a conversation continues with one reply; give \"n\": 1 or leave \"conversation\" out")
            }
            return job
        case .complete:
            return try generationJob(.complete(prompt: try fields.requiredString("prompt"), sampling: try sampling(fields)), model: model, fields: fields)
        case .embed:
            if fields["dimensions"] != nil {
                throw QuernError(.requestFieldNotApplicable, "field \"dimensions\": the embedding model's vectors have a fixed size (shortening them is not supported); leave \"dimensions\" out")
            }
            var job = Job(request: .embed(inputs: try embedInputs(fields), truncate: try fields.optionalBool("truncate") ?? false), model: model,
                          heads: try headNames(fields))
            if let format = try fields.optionalString("encoding_format") {
                guard let encoding = EmbeddingEncoding(rawValue: format) else {
                    throw QuernError(.requestInvalidValue, "field \"encoding_format\": \"\(format)\" is not one of: float, base64")
                }
                job.embeddingEncoding = encoding
            }
            job.precision = try precision(fields)
            return job
        case .classify:
            let topK = try fields.optionalInteger("top_k", range: 1...1000)
            let threshold = try fields.optionalNumber("threshold", range: 0...1).map { Float($0) }
            var job = Job(request: .classify(image: try base64Media(fields), topK: topK, threshold: threshold), model: model, heads: try headNames(fields))
            job.precision = try precision(fields)
            return job
        case .transcribe:
            var job = Job(request: .transcribe(audio: try base64Media(fields), options: try TranscriptionOptions.parse(fields)), model: model,
                          heads: try headNames(fields))
            job.precision = try precision(fields)
            return job
        case .train:
            return Job(request: .train(try TrainingRequest.parse(fields)))
        case .forget:
            return Job(request: .forget(conversation: try conversationID(fields, required: true) ?? ""))
        }
    }

    /// The `precision` field: float32 or bfloat16.
    private static func precision(_ fields: Fields) throws(QuernError) -> Precision? {
        guard let name = try fields.optionalString("precision") else { return nil }
        guard let precision = Precision(rawValue: name) else {
            throw QuernError(.requestInvalidValue, "field \"precision\": \"\(name)\" is not one of: \(Precision.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return precision
    }

    /// The `conversation` field: a safe id (`ConversationID`).
    private static func conversationID(_ fields: Fields, required: Bool) throws(QuernError) -> String? {
        guard let id = try fields.optionalString("conversation") else {
            if required { throw QuernError(.requestMissingField, "missing field \"conversation\" (the id of the conversation to forget)") }
            return nil
        }
        if let problem = ConversationID.problem(with: id) { throw QuernError(.requestInvalidValue, "field \"conversation\": \(problem)") }
        return id
    }

    /// The `task` field, or, when it is absent, the task an OpenAI request
    /// body's fields name: `messages` → chat, `prompt` → complete, `input`
    /// (text) → embed.
    private static func taskName(_ fields: Fields) throws(QuernError) -> TaskName {
        guard let taskValue = fields["task"] else {
            if fields["messages"] != nil { return .chat }
            if fields["prompt"] != nil { return .complete }
            if fields["input"] != nil { return .embed }
            throw QuernError(.requestMissingField, "missing field \"task\" (one of: \(taskList)); it may be left out of an OpenAI-style body with \"messages\" (chat), \"prompt\" (complete) or \"input\" (embed)")
        }
        guard case let .string(taskText) = taskValue else {
            throw wrongType("task", expected: "a string", got: taskValue)
        }
        guard let task = TaskName(rawValue: taskText) else {
            throw QuernError(.requestInvalidValue, "field \"task\": unknown task \"\(taskText)\" (one of: \(taskList))")
        }
        return task
    }

    /// A chat or completion job with the OpenAI fields that are not sampling:
    /// `n` (choices), `stream`, `user` (accepted, not used).
    private static func generationJob(_ request: TaskRequest, model: String?, fields: Fields) throws(QuernError) -> Job {
        var job = Job(request: request, model: model)
        job.choices = try fields.optionalInteger("n", range: 1...Job.maximumChoices) ?? 1
        job.stream = try fields.optionalBool("stream") ?? false
        if let options = fields["stream_options"], options != .null {
            guard case let .object(members) = options else { throw wrongType("stream_options", expected: "an object", got: options) }
            let streamOptions = Fields(members, path: "stream_options.")
            for (key, _) in members where key != "include_usage" {
                throw QuernError(.requestUnknownField, "unknown field \"stream_options.\(key)\" (it takes \"include_usage\")")
            }
            job.streamIncludesUsage = try streamOptions.optionalBool("include_usage") ?? false
        }
        _ = try fields.optionalString("user")
        return job
    }

    /// The `heads` field: a list of distinct head names (possibly empty: no
    /// heads), nil when absent (every head of the input's kind). Whether
    /// each is installed is checked against the head library when the job
    /// runs.
    private static func headNames(_ fields: Fields) throws(QuernError) -> [String]? {
        guard let value = fields["heads"], value != .null else { return nil }
        guard case .array = value else { throw wrongType("heads", expected: "a list of head names", got: value) }
        let names = try fields.optionalStringOrList("heads", maximumCount: 256)
        for (position, name) in names.enumerated() {
            if let problem = HeadName.problem(with: name) { throw QuernError(.requestInvalidValue, "field \"heads[\(position)]\": \(problem)") }
            if names[..<position].contains(name) { throw QuernError(.requestInvalidValue, "field \"heads\": \"\(name)\" is listed twice") }
        }
        return names
    }

    private static let taskList = TaskName.allCases.map(\.rawValue).joined(separator: ", ")

    private static func checkFieldNames(_ members: [(key: String, value: JSONValue)], task: TaskName) throws(QuernError) {
        let allowed = RequestFields.allowed(for: task)
        for (key, _) in members where !allowed.contains(key) {
            if RequestFields.known.contains(key) {
                throw QuernError(.requestFieldNotApplicable, "field \"\(key)\" does not apply to task \"\(task.rawValue)\" (its fields: \(allowed.sorted().joined(separator: ", ")))")
            }
        }
        // Every unknown field is named at once: a request with two typos is fixed in one go.
        let unknown = members.map(\.key).filter { !allowed.contains($0) }
        guard unknown.count <= 1 else {
            throw QuernError(.requestUnknownField, "unknown fields \(unknown.map { "\"\($0)\"" }.joined(separator: ", ")) (task \"\(task.rawValue)\" takes: \(allowed.sorted().joined(separator: ", ")))")
        }
        if let key = unknown.first {
            let hint = RequestFields.suggestion(for: key).map { " — did you mean \"\($0)\"?" } ?? ""
            throw QuernError(.requestUnknownField, "unknown field \"\(key)\"\(hint)")
        }
    }

    private static func messages(_ fields: Fields) throws(QuernError) -> [ChatMessage] {
        guard let value = fields["messages"] else {
            throw QuernError(.requestMissingField, "missing field \"messages\" (a list of {\"role\", \"content\"} objects)")
        }
        guard case let .array(elements) = value else { throw wrongType("messages", expected: "an array", got: value) }
        guard !elements.isEmpty else { throw QuernError(.requestInvalidValue, "field \"messages\" must not be empty") }
        var result: [ChatMessage] = []
        for (position, element) in elements.enumerated() {
            let path = "messages[\(position)]"
            guard case let .object(members) = element else { throw wrongType(path, expected: "an object", got: element) }
            for (key, _) in members where key != "role" && key != "content" {
                throw QuernError(.requestUnknownField, "unknown field \"\(path).\(key)\" (a message has \"role\" and \"content\")")
            }
            let message = Fields(members, path: path + ".")
            let roleText = try message.requiredString("role")
            guard let role = ChatMessage.Role(rawValue: roleText) else {
                let roles = ChatMessage.Role.allCases.map(\.rawValue).joined(separator: ", ")
                throw QuernError(.requestInvalidValue, "field \"\(path).role\": unknown role \"\(roleText)\" (one of: \(roles))")
            }
            result.append(ChatMessage(role: role, content: try message.requiredString("content")))
        }
        return result
    }

    /// The request's values over the defaults (llama.cpp's sampling chain;
    /// no seed: the pipeline draws a fresh one and reports it).
    private static func sampling(_ fields: Fields) throws(QuernError) -> SamplingParameters {
        var parameters = SamplingParameters()
        // `max_completion_tokens` is the newer OpenAI name of `max_tokens`.
        let maxTokens = try fields.optionalInteger("max_tokens", range: 1...1_000_000)
        let maxCompletionTokens = try fields.optionalInteger("max_completion_tokens", range: 1...1_000_000)
        if maxTokens != nil, maxCompletionTokens != nil, maxTokens != maxCompletionTokens {
            throw QuernError(.requestInvalidValue, "fields \"max_tokens\" and \"max_completion_tokens\" disagree; give one of them")
        }
        parameters.maxTokens = maxTokens ?? maxCompletionTokens
        if let value = try fields.optionalNumber("temperature", range: 0...100) { parameters.temperature = Float(value) }
        if let value = try fields.optionalInteger("top_k", range: 0...1_000_000) { parameters.topK = value }
        if let value = try fields.optionalNumber("top_p", range: 0...1) { parameters.topP = Float(value) }
        if let value = try fields.optionalNumber("min_p", range: 0...1) { parameters.minP = Float(value) }
        if let value = try fields.optionalNumber("repetition_penalty", range: 0.01...100) { parameters.repetitionPenalty = Float(value) }
        if let value = try fields.optionalNumber("presence_penalty", range: -2...2) { parameters.presencePenalty = Float(value) }
        if let value = try fields.optionalNumber("frequency_penalty", range: -2...2) { parameters.frequencyPenalty = Float(value) }
        if let value = try fields.optionalSeed("seed") { parameters.seed = value }
        parameters.stop = try fields.optionalStringOrList("stop", maximumCount: 16)
        return parameters
    }

    private static func embedInputs(_ fields: Fields) throws(QuernError) -> [String] {
        guard fields["input"] != nil else {
            throw QuernError(.requestMissingField, "missing field \"input\" (a string or a list of strings)")
        }
        let inputs = try fields.optionalStringOrList("input", maximumCount: 4096)
        guard !inputs.isEmpty else { throw QuernError(.requestInvalidValue, "field \"input\" must not be an empty list") }
        return inputs
    }

    private static func base64Media(_ fields: Fields) throws(QuernError) -> [UInt8] {
        let text = try fields.requiredString("input")
        guard let data = Data(base64Encoded: text, options: .ignoreUnknownCharacters), !data.isEmpty else {
            throw QuernError(.requestInvalidValue, "field \"input\" must be the file's bytes in base64")
        }
        return [UInt8](data)
    }

    static func wrongType(_ field: String, expected: String, got value: JSONValue) -> QuernError {
        QuernError(.requestWrongType, "field \"\(field)\" must be \(expected), got \(value.typeName)")
    }
}
