import Foundation
import QuernHTTP
import QuernJSON
import QuernPipelines

/// A result document in the shapes the OpenAI API answers with, and its
/// errors as OpenAI error objects carrying Quern's stable codes.
enum OpenAIShapes {
    /// The HTTP status of an error result: the client's fault (400, 404,
    /// 413), the daemon's state (503), a limit (504) or ours (500).
    static func status(of code: ErrorCode) -> Int {
        switch code {
        case .inputTooLarge: return 413
        case .unavailable: return 503
        case .authInvalidAPIKey: return 401
        case .timeout: return 504
        case .cancelled: return 499
        case .internalError, .pipelineFailed, .trainingFailed: return 500
        default: return 400
        }
    }

    /// OpenAI's error `type` for a status.
    private static func type(of status: Int) -> String {
        switch status {
        case 401: return "authentication_error"
        case 404: return "not_found_error"
        case 503: return "service_unavailable"
        case 500, 504: return "server_error"
        default: return "invalid_request_error"
        }
    }

    /// `{"error": {"message", "type", "param", "code"}}` with our code.
    static func error(_ error: QuernError, status: Int? = nil, headers: [(name: String, value: String)] = []) -> HTTPResponse {
        let status = status ?? Self.status(of: error.code)
        let body = JSONValue.object([
            ("error", .object([
                ("message", .string(error.message)), ("type", .string(type(of: status))),
                ("param", param(in: error.message)), ("code", .string(error.code.rawValue)),
            ])),
        ])
        return json(status, body, headers: headers)
    }

    /// The field an error names (our messages say `field "x"`), as OpenAI's `param`.
    private static func param(in message: String) -> JSONValue {
        guard let start = message.range(of: "field \""), let end = message[start.upperBound...].firstIndex(of: "\"") else { return .null }
        return .string(String(message[start.upperBound..<end]))
    }

    static func json(_ status: Int, _ value: JSONValue, headers: [(name: String, value: String)] = []) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json")] + headers,
                     body: JSONWriter.bytes(value, style: .compact) + [0x0A])
    }

    static func created(_ document: ResultDocument) -> JSONValue { .int(Int(document.created.timeIntervalSince1970)) }

    static func usage(_ usage: TokenUsage) -> JSONValue {
        .object([("prompt_tokens", .int(usage.promptTokens)), ("completion_tokens", .int(usage.completionTokens)),
                 ("total_tokens", .int(usage.totalTokens))])
    }

    /// `chat.completion`.
    static func chatCompletion(_ output: ChatOutput, document: ResultDocument) -> JSONValue {
        .object([
            ("id", .string("chatcmpl-" + (document.claimID ?? ""))), ("object", .string("chat.completion")), ("created", created(document)),
            ("model", .string(document.model?.name ?? "")),
            ("choices", .array(output.choices.enumerated().map { index, choice in
                .object([
                    ("index", .int(index)),
                    ("message", .object([("role", .string("assistant")), ("content", .string(choice.text))])),
                    ("logprobs", .null), ("finish_reason", .string(choice.finishReason.rawValue)),
                ])
            })),
            ("usage", usage(output.usage)),
            ("system_fingerprint", .string("quern-" + document.quernVersion)),
            ("seed", seed(output.details)),
        ])
    }

    /// `text_completion`.
    static func completion(_ output: CompletionOutput, document: ResultDocument) -> JSONValue {
        .object([
            ("id", .string("cmpl-" + (document.claimID ?? ""))), ("object", .string("text_completion")), ("created", created(document)),
            ("model", .string(document.model?.name ?? "")),
            ("choices", .array(output.choices.enumerated().map { index, choice in
                .object([("index", .int(index)), ("text", .string(choice.text)), ("logprobs", .null),
                         ("finish_reason", .string(choice.finishReason.rawValue))])
            })),
            ("usage", usage(output.usage)),
            ("system_fingerprint", .string("quern-" + document.quernVersion)),
            ("seed", seed(output.details)),
        ])
    }

    /// The seed the reply was sampled with (ours: OpenAI does not report
    /// it), so a request without one can be replayed.
    private static func seed(_ details: GenerationDetails?) -> JSONValue {
        guard case let .object(members)? = details?.parameters, let seed = members.first(where: { $0.key == "seed" }) else { return .null }
        return seed.value
    }

    /// The embeddings `list`.
    static func embeddings(_ output: EmbeddingOutput, document: ResultDocument) -> JSONValue {
        .object([
            ("object", .string("list")),
            ("data", .array(output.vectors.enumerated().map { index, vector in
                .object([("object", .string("embedding")), ("index", .int(index)), ("embedding", output.encoding.json(vector))])
            })),
            ("model", .string(document.model?.name ?? "")),
            ("usage", .object([("prompt_tokens", .int(output.promptTokens)), ("total_tokens", .int(output.promptTokens))])),
        ])
    }

    /// A transcription in one of OpenAI's `response_format`s.
    enum TranscriptFormat: String, CaseIterable {
        case json, text, srt, vtt
        case verboseJSON = "verbose_json"
    }

    static func transcription(_ output: TranscriptionOutput, format: TranscriptFormat, words: Bool, segments: Bool) -> HTTPResponse {
        let ms = TranscriptionOutput.milliseconds
        switch format {
        case .text:
            return .text(200, output.text.trimmingCharacters(in: .whitespaces))
        case .srt:
            return .text(200, SubtitleFormat.srt.render(output.segments), contentType: "application/x-subrip; charset=utf-8")
        case .vtt:
            return .text(200, SubtitleFormat.vtt.render(output.segments), contentType: "text/vtt; charset=utf-8")
        case .json:
            return json(200, .object([("text", .string(output.text.trimmingCharacters(in: .whitespaces)))]))
        case .verboseJSON:
            var members: [(key: String, value: JSONValue)] = [
                ("task", .string("transcribe")), ("language", .string(languageName(output.language))),
                ("duration", .double(ms(output.durationSeconds ?? output.segments.last?.end ?? 0))),
                ("text", .string(output.text.trimmingCharacters(in: .whitespaces))),
            ]
            if segments {
                members.append(("segments", .array(output.segments.enumerated().map { index, segment in
                    .object([
                        ("id", .int(index)), ("seek", .int(0)), ("start", .double(ms(segment.start))), ("end", .double(ms(segment.end))),
                        ("text", .string(segment.text)), ("tokens", .array([])), ("temperature", .double(0)),
                        ("avg_logprob", .double(segment.averageLogProbability ?? 0)),
                        ("compression_ratio", .double(segment.compressionRatio ?? 0)),
                        ("no_speech_prob", .double(segment.noSpeechProbability ?? 0)),
                    ])
                })))
            }
            if words {
                let all = output.segments.flatMap { $0.words ?? [] }
                members.append(("words", .array(all.map { word in
                    .object([("word", .string(word.word.trimmingCharacters(in: .whitespaces))), ("start", .double(ms(word.start))), ("end", .double(ms(word.end)))])
                })))
            }
            return json(200, .object(members))
        }
    }

    /// OpenAI's verbose transcription names the language in English words.
    private static func languageName(_ code: String) -> String {
        code == "en" ? "english" : code
    }
}
