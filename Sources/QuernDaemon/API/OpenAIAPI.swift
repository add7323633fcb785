import Dispatch
import Foundation
import QuernHTTP
import QuernJSON
import QuernPipelines

/// The HTTP API of `--http-listen`: the OpenAI routes (chat completions,
/// completions, embeddings, audio transcriptions, models) and Quern's own
/// `/v1/classify`. Every request goes through `Daemon.submit`, the intake
/// files go through, so both doors share validation, lanes and limits; the
/// result document is then answered in the OpenAI shape (`OpenAIShapes`).
/// See docs/api.md.
public struct OpenAIAPI: Sendable {
    public static let paths = ["/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/audio/transcriptions", "/v1/models", "/v1/classify"]

    /// Room for a multipart upload's form fields and part headers beside a
    /// file of --max-bytes.
    static let formOverhead = 64 << 10

    let daemon: Daemon
    /// The bearer token every request must carry; nil: no authentication.
    let apiKey: String?
    /// Bodies over this get 413 unread (the inbox's --max-bytes).
    let maxBytes: Int
    /// Where requests are inspected and submitted, off the event loop.
    private let work = DispatchQueue(label: "quern-api", attributes: .concurrent)

    public init(daemon: Daemon, apiKey: String?, maxBytes: Int) {
        self.daemon = daemon
        self.apiKey = apiKey
        self.maxBytes = maxBytes
    }

    public func register(on router: HTTPRouter) {
        let tooLarge: @Sendable (Int) -> HTTPResponse = { [maxBytes] size in
            OpenAIShapes.error(QuernError(.inputTooLarge, "the request body is \(size) bytes or more, over the limit of \(maxBytes) (the daemon's --max-bytes)"))
        }
        func post(_ path: String, limit: Int, _ handler: @escaping @Sendable (HTTPRequest, HTTPResponder) -> Void) {
            router.register("POST", path, HTTPRoute(handler: .deferred { request, responder in
                if let refusal = authorize(request) {
                    responder.respond(refusal)
                    return
                }
                work.async { handler(request, responder) }
            }, maxBodyBytes: limit, tooLarge: tooLarge))
        }
        post("/v1/chat/completions", limit: maxBytes) { generate($0, $1, task: .chat) }
        post("/v1/completions", limit: maxBytes) { generate($0, $1, task: .complete) }
        post("/v1/embeddings", limit: maxBytes) { embed($0, $1) }
        post("/v1/audio/transcriptions", limit: maxBytes + Self.formOverhead) { transcribe($0, $1) }
        post("/v1/classify", limit: maxBytes + Self.formOverhead) { classify($0, $1) }
        router.get("/v1/models") { request in
            if let refusal = authorize(request) { return refusal }
            return models()
        }
        if daemon.sharesQueue {
            post("/v1/queue/jobs", limit: maxBytes) { enqueue($0, $1) }
            router.register("GET", "/v1/queue/jobs", HTTPRoute(handler: .deferred { request, responder in
                if let refusal = authorize(request) {
                    responder.respond(refusal)
                    return
                }
                work.async { responder.respond(queuedJob(request)) }
            }, maxBodyBytes: 0, tooLarge: tooLarge))
        }
    }

    // MARK: Authentication

    /// nil when the request may go on; else the 401.
    private func authorize(_ request: HTTPRequest) -> HTTPResponse? {
        guard let apiKey else { return nil }
        let header = request.header("Authorization") ?? ""
        let prefix = "Bearer "
        let given = header.hasPrefix(prefix) ? String(header.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces) : ""
        if Self.constantTimeEqual(Array(given.utf8), Array(apiKey.utf8)) { return nil }
        let message = header.isEmpty
            ? "no API key: send the header \"Authorization: Bearer <key>\" with the key in the daemon's --api-key-file"
            : "the API key is not the one in the daemon's --api-key-file"
        return OpenAIShapes.error(QuernError(.authInvalidAPIKey, message), headers: [("WWW-Authenticate", "Bearer")])
    }

    /// Compares without stopping at the first difference, so the time taken
    /// does not tell an attacker how much of a guess was right.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        for index in 0..<max(a.count, b.count) {
            difference |= (index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0)
        }
        return difference == 0
    }

    // MARK: Routes

    /// The route a request of `path` takes: its task, and the form fields
    /// of an upload as the request's other fields.
    private func route(_ task: TaskName, _ path: String, fields: [(key: String, value: JSONValue)] = []) -> FolderRoute {
        FolderRoute(task: task, label: "the endpoint \(path) ", fields: fields)
    }

    /// Submits; answers 503 (with Retry-After) when the daemon cannot take it now.
    private func submit(_ call: APICall, name: String, body: [UInt8], route: FolderRoute, responder: HTTPResponder,
                        configure: (inout Job, ModelIdentity) -> Void = { _, _ in }) {
        responder.onClose { call.cancel() }
        if case let .unavailable(reason) = daemon.submit(call, name: Array(name.utf8), bytes: body, route: route, configure: configure) {
            responder.respond(OpenAIShapes.error(QuernError(.unavailable, reason), headers: [("Retry-After", "1")]))
        }
    }

    private func generate(_ request: HTTPRequest, _ responder: HTTPResponder, task: TaskName) {
        let path = request.path
        let box = StreamBox()
        let call = APICall(label: "POST \(path)", deliver: { document in
            guard let stream = box.stream, stream.isWanted else {
                responder.respond(Self.answer(document) { output in
                    switch output {
                    case let .chat(chat): return OpenAIShapes.chatCompletion(chat, document: document)
                    case let .completion(completion): return OpenAIShapes.completion(completion, document: document)
                    default: return nil
                    }
                })
                return
            }
            stream.finish(document)
        }, partial: { output in box.stream?.partial(output) })
        box.stream = ReplyStream(responder: responder, callID: call.id)
        submit(call, name: "request.json", body: request.body, route: route(task, path), responder: responder) { job, model in
            box.stream?.configure(job, model: model.name)
            // The HTTP answer streams; the pipeline must not note it as ignored.
            job.stream = false
        }
    }

    private func embed(_ request: HTTPRequest, _ responder: HTTPResponder) {
        let call = APICall(label: "POST \(request.path)", deliver: { document in
            responder.respond(Self.answer(document) { output in
                guard case let .embedding(embedding) = output else { return nil }
                return OpenAIShapes.embeddings(embedding, document: document)
            })
        })
        submit(call, name: "request.json", body: request.body, route: route(.embed, request.path), responder: responder)
    }

    private func transcribe(_ request: HTTPRequest, _ responder: HTTPResponder) {
        let form: MultipartForm
        let upload: MultipartForm.Part
        let format: OpenAIShapes.TranscriptFormat
        let granularities: Set<String>
        var fields: [(key: String, value: JSONValue)] = [("transcript_files", .array([]))]
        do throws(QuernError) {
            do {
                form = try MultipartForm(body: request.body, contentType: request.header("Content-Type"))
            } catch {
                throw QuernError(.requestInvalidValue, "\(error) (upload the audio as the \"file\" field of a multipart/form-data body)")
            }
            guard let file = form.part("file") else {
                throw QuernError(.requestMissingField, "missing field \"file\": the audio to transcribe, as a multipart file field")
            }
            upload = file
            let formatText = form.part("response_format")?.text ?? "json"
            guard let chosen = OpenAIShapes.TranscriptFormat(rawValue: formatText) else {
                throw QuernError(.requestInvalidValue, "field \"response_format\": \"\(formatText)\" is not one of: \(OpenAIShapes.TranscriptFormat.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            format = chosen
            // The request parser checks the granularities and the language
            // as it does in a file's request (TranscriptionOptions.parse).
            let granularityParts = form.parts(named: "timestamp_granularities[]") + form.parts(named: "timestamp_granularities")
            granularities = Set(granularityParts.map(\.text))
            if !granularityParts.isEmpty { fields.append(("timestamp_granularities", .array(granularityParts.map { .string($0.text) }))) }
            if granularities.contains("word"), format != .verboseJSON {
                throw QuernError(.requestFieldNotApplicable, "field \"timestamp_granularities[]\": word timestamps need \"response_format\": \"verbose_json\"")
            }
            if let model = form.part("model")?.text, !model.isEmpty { fields.append(("model", .string(model))) }
            if let language = form.part("language")?.text, !language.isEmpty { fields.append(("language", .string(language))) }
            // Quern's own: the precision the speech model runs in (docs/precision.md).
            if let precision = form.part("precision")?.text, !precision.isEmpty { fields.append(("precision", .string(precision))) }
            if let prompt = form.part("prompt")?.text, !prompt.isEmpty {
                throw QuernError(.requestFieldNotApplicable, "field \"prompt\": Quern does not condition transcription on a prompt; leave it out")
            }
            if let temperature = form.part("temperature")?.text, !temperature.isEmpty, Double(temperature) != 0 {
                throw QuernError(.requestFieldNotApplicable, "field \"temperature\": Quern decodes as faster-whisper does by default (temperature 0, rising only on its fallback rules); leave it out or give 0")
            }
            let known: Set<String> = ["file", "model", "language", "prompt", "response_format", "temperature", "timestamp_granularities[]", "timestamp_granularities", "stream",
                                      "precision"]
            if let unknown = form.parts.first(where: { !known.contains($0.name) }) {
                throw QuernError(.requestUnknownField, "unknown field \"\(unknown.name)\"")
            }
            if let stream = form.part("stream")?.text, stream == "true" {
                throw QuernError(.requestFieldNotApplicable, "field \"stream\": transcriptions are answered whole; leave it out")
            }
        } catch {
            responder.respond(OpenAIShapes.error(error))
            return
        }
        let words = granularities.contains("word")
        let segments = granularities.isEmpty || granularities.contains("segment")
        let call = APICall(label: "POST \(request.path)", deliver: { document in
            guard case let .success(.transcription(output)) = document.outcome else {
                responder.respond(Self.answer(document) { _ in nil })
                return
            }
            responder.respond(OpenAIShapes.transcription(output, format: format, words: words, segments: segments))
        })
        submit(call, name: upload.fileName ?? "upload", body: upload.body, route: route(.transcribe, request.path, fields: fields),
               responder: responder)
    }

    /// An image (a multipart `file`, or a JSON request whose `input` is its
    /// base64) through the classifier and the image heads: the answer is the
    /// result document's `result`, as a file's result holds it.
    private func classify(_ request: HTTPRequest, _ responder: HTTPResponder) {
        var name = "request.json"
        var body = request.body
        var fields: [(key: String, value: JSONValue)] = []
        if request.header("Content-Type")?.lowercased().hasPrefix("multipart/form-data") == true {
            do throws(QuernError) {
                let form: MultipartForm
                do {
                    form = try MultipartForm(body: request.body, contentType: request.header("Content-Type"))
                } catch {
                    throw QuernError(.requestInvalidValue, "\(error)")
                }
                guard let file = form.part("file") else { throw QuernError(.requestMissingField, "missing field \"file\": the image, as a multipart file field") }
                name = file.fileName ?? "upload"
                body = file.body
                for part in form.parts where part.name != "file" {
                    switch part.name {
                    case "top_k": fields.append(("top_k", Int(part.text).map(JSONValue.int) ?? .string(part.text)))
                    case "threshold": fields.append(("threshold", Double(part.text).map(JSONValue.double) ?? .string(part.text)))
                    case "model": fields.append(("model", .string(part.text)))
                    case "heads": fields.append(("heads", .array(part.text.split(separator: ",").map { .string(String($0)) })))
                    case "precision": fields.append(("precision", .string(part.text)))
                    default: throw QuernError(.requestUnknownField, "unknown field \"\(part.name)\" (it takes: file, model, top_k, threshold, heads, precision)")
                    }
                }
            } catch {
                responder.respond(OpenAIShapes.error(error))
                return
            }
        }
        let call = APICall(label: "POST \(request.path)", deliver: { document in
            responder.respond(Self.answer(document) { output in
                // The result member exactly as a file's result writes it.
                guard case .classification = output, case let .object(members) = document.json,
                      let result = members.first(where: { $0.key == "result" })?.value else { return nil }
                return .object([("object", .string("classification")), ("model", .string(document.model?.name ?? "")), ("result", result)])
            })
        })
        submit(call, name: name, body: body, route: route(.classify, request.path, fields: fields), responder: responder)
    }

    // MARK: The shared queue (--queue)

    private static func parameters(_ query: String?) -> [String: String] {
        var values: [String: String] = [:]
        for item in URLComponents(string: "?" + (query ?? ""))?.queryItems ?? [] { values[item.name] = item.value ?? "" }
        return values
    }

    /// `POST /v1/queue/jobs?name=NAME[&folder=TASK]`: the body is the input,
    /// as a file dropped in the inbox (or in `inbox/TASK/`) would hold it.
    /// 202 with the job's id; its result is read with `GET /v1/queue/jobs?id=`.
    private func enqueue(_ request: HTTPRequest, _ responder: HTTPResponder) {
        let parameters = Self.parameters(request.query)
        var folder: TaskName?
        if let text = parameters["folder"] {
            guard let task = TaskName(rawValue: text), FolderRoute.routedTasks.contains(task) else {
                responder.respond(OpenAIShapes.error(QuernError(.requestInvalidValue, "parameter \"folder\": one of \(FolderRoute.routedTasks.map(\.rawValue).joined(separator: ", "))")))
                return
            }
            folder = task
        }
        let name = parameters["name"] ?? "request.json"
        switch daemon.enqueue(name: Array(name.utf8), bytes: request.body, folder: folder) {
        case let .queued(id, kind):
            responder.respond(OpenAIShapes.json(202, .object([
                ("id", .int(id)), ("object", .string("quern.queue.job")), ("state", .string("queued")), ("kind", .string(kind)),
                ("name", .string(name)), ("url", .string("/v1/queue/jobs?id=\(id)")),
            ]), headers: [("Location", "/v1/queue/jobs?id=\(id)")]))
        case let .refused(error):
            responder.respond(OpenAIShapes.error(error))
        case let .unavailable(reason):
            responder.respond(OpenAIShapes.error(QuernError(.unavailable, reason), headers: [("Retry-After", "1")]))
        }
    }

    /// `GET /v1/queue/jobs?id=ID`: the job's state, attempts and error, and
    /// its result document once it ended.
    private func queuedJob(_ request: HTTPRequest) -> HTTPResponse {
        guard let text = Self.parameters(request.query)["id"], let id = Int64(text) else {
            return OpenAIShapes.error(QuernError(.requestMissingField, "parameter \"id\": the job's id, as POST /v1/queue/jobs answered it"))
        }
        switch daemon.queuedJob(id: id) {
        case let .success(job?):
            var members: [(key: String, value: JSONValue)] = [
                ("id", .int(id)), ("object", .string("quern.queue.job")), ("state", .string(job.row.state)), ("attempts", .int(job.row.attempts)),
            ]
            if let code = job.row.errorCode, job.row.state != "done" {
                members.append(("error", .object([("code", .string(code)), ("message", .optional(job.row.errorMessage))])))
            }
            members.append(("result", job.result ?? .null))
            return OpenAIShapes.json(200, .object(members))
        case .success(nil):
            return OpenAIShapes.json(404, .object([("error", .object([
                ("message", .string("no job \(id) in the queue")), ("type", .string("invalid_request_error")), ("param", .string("id")), ("code", .string("not_found")),
            ]))]))
        case let .failure(error):
            return OpenAIShapes.error(error, headers: error.code == .unavailable ? [("Retry-After", "1")] : [])
        }
    }

    /// `GET /v1/models`: every model serving a task, loaded or not.
    private func models() -> HTTPResponse {
        let status = daemon.status()
        let created = Int(status.startedAt)
        return OpenAIShapes.json(200, .object([
            ("object", .string("list")),
            ("data", .array(status.models.filter { !$0.tasks.isEmpty }.map { model in
                .object([("id", .string(model.name)), ("object", .string("model")), ("created", .int(created)), ("owned_by", .string("quern")),
                         ("tasks", .array(model.tasks.map { .string($0.rawValue) })), ("loaded", .bool(model.loaded))])
            })),
        ]))
    }

    /// A success in the route's shape (`shape` gives nil for an output of
    /// another task), or the error object.
    private static func answer(_ document: ResultDocument, _ shape: (TaskOutput) -> JSONValue?) -> HTTPResponse {
        switch document.outcome {
        case let .success(output):
            guard let body = shape(output) else {
                return OpenAIShapes.error(QuernError(.requestInvalidValue, "this endpoint does not answer task \"\(document.task?.rawValue ?? "?")\""))
            }
            return OpenAIShapes.json(200, body)
        case let .failure(error):
            return OpenAIShapes.error(error)
        }
    }
}

/// Lets the call's callbacks reach the stream made after the call (the
/// stream is named by the call's id).
private final class StreamBox: @unchecked Sendable {
    // Set once, before the call is submitted; read afterwards only.
    var stream: ReplyStream?
}
