import Foundation
import QuernHTTP
import QuernJSON
import QuernPipelines
import Synchronization

/// A chat or completion reply sent as server-sent events while the model
/// writes it (`stream: true`), in the chunk shapes of the OpenAI API: a
/// first chunk with the role, one chunk per new piece of text, a last chunk
/// per choice with its finish reason, a usage chunk when asked, `[DONE]`.
///
/// Text that could still turn out to begin a stop string is held back
/// until the next piece rules it out: the generator cuts a stop string that
/// spans pieces after the fact, and text already sent cannot be taken back.
final class ReplyStream: Sendable {
    private struct State {
        var wanted = false
        var started = false
        var ended = false
        var isChat = true
        var includeUsage = false
        var holdBack = 0
        var model = ""
        /// Unicode scalars of each choice already sent.
        var sent: [Int] = []
    }

    private let responder: HTTPResponder
    private let id: String
    private let created = Int(Date().timeIntervalSince1970)
    private let state = Mutex(State())

    init(responder: HTTPResponder, callID: String) {
        self.responder = responder
        id = callID
    }

    /// Called with the job before it is queued: whether it streams, and how.
    func configure(_ job: Job, model: String) {
        state.withLock { state in
            state.wanted = job.stream
            state.includeUsage = job.streamIncludesUsage
            state.model = model
            state.sent = Array(repeating: 0, count: max(1, job.choices))
            switch job.request {
            case let .chat(_, sampling):
                state.isChat = true
                state.holdBack = Self.holdBack(sampling.stop)
            case let .complete(_, sampling):
                state.isChat = false
                state.holdBack = Self.holdBack(sampling.stop)
            default:
                state.wanted = false
            }
        }
    }

    /// Scalars kept back: enough for any stop string's beginning, with room
    /// for the generator's character-wise matching.
    private static func holdBack(_ stops: [String]) -> Int {
        let longest = stops.map(\.unicodeScalars.count).max() ?? 0
        return longest == 0 ? 0 : longest + 4
    }

    var isWanted: Bool { state.withLock { $0.wanted } }

    /// The output so far (each choice's text grows by whole pieces).
    func partial(_ output: TaskOutput) {
        guard let choices = Self.choices(output) else { return }
        state.withLock { state in
            guard state.wanted, !state.ended else { return }
            startIfNeeded(&state)
            for (index, choice) in choices.enumerated() where index < state.sent.count {
                let scalars = Array(choice.text.unicodeScalars)
                let visible = max(0, scalars.count - state.holdBack)
                guard visible > state.sent[index] else { continue }
                let delta = String(String.UnicodeScalarView(scalars[state.sent[index]..<visible]))
                state.sent[index] = visible
                send(chunk(state, index: index, text: delta, finish: nil))
            }
        }
    }

    /// The finished result: the rest of each choice, the finish reasons,
    /// usage, `[DONE]`; or, mid-stream, an error event.
    func finish(_ document: ResultDocument) {
        state.withLock { state in
            guard !state.ended else { return }
            state.ended = true
            switch document.outcome {
            case let .failure(error):
                guard state.started else {
                    responder.respond(OpenAIShapes.error(error))
                    return
                }
                let body = OpenAIShapes.error(error).body
                responder.send(Array("data: ".utf8) + body.dropLast() + Array("\n\n".utf8))
            case let .success(output):
                startIfNeeded(&state)
                let choices = Self.choices(output) ?? []
                for (index, choice) in choices.enumerated() {
                    let scalars = Array(choice.text.unicodeScalars)
                    let already = index < state.sent.count ? min(state.sent[index], scalars.count) : 0
                    let rest = String(String.UnicodeScalarView(scalars[already...]))
                    if !rest.isEmpty { send(chunk(state, index: index, text: rest, finish: nil)) }
                    send(chunk(state, index: index, text: nil, finish: choice.finishReason.rawValue))
                }
                if state.includeUsage, let usage = Self.usage(output) {
                    send(envelope(state, choices: [], usage: OpenAIShapes.usage(usage)))
                }
            }
            responder.send(Array("data: [DONE]\n\n".utf8))
            responder.finish()
        }
    }

    private func startIfNeeded(_ state: inout State) {
        guard !state.started else { return }
        state.started = true
        responder.startStream(status: 200, headers: [("Content-Type", "text/event-stream; charset=utf-8"), ("X-Accel-Buffering", "no")])
        if state.isChat {
            // The first chunk of each choice names the role.
            for index in state.sent.indices {
                send(envelope(state, choices: [.object([
                    ("index", .int(index)), ("delta", .object([("role", .string("assistant")), ("content", .string(""))])),
                    ("logprobs", .null), ("finish_reason", .null),
                ])]))
            }
        }
    }

    private func chunk(_ state: State, index: Int, text: String?, finish: String?) -> JSONValue {
        let finishValue: JSONValue = finish.map(JSONValue.string) ?? .null
        if state.isChat {
            let delta: JSONValue = text.map { .object([("content", .string($0))]) } ?? .object([])
            return envelope(state, choices: [.object([("index", .int(index)), ("delta", delta), ("logprobs", .null), ("finish_reason", finishValue)])])
        }
        return envelope(state, choices: [.object([("index", .int(index)), ("text", .string(text ?? "")), ("logprobs", .null), ("finish_reason", finishValue)])])
    }

    private func envelope(_ state: State, choices: [JSONValue], usage: JSONValue? = nil) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [
            ("id", .string((state.isChat ? "chatcmpl-" : "cmpl-") + id)),
            ("object", .string(state.isChat ? "chat.completion.chunk" : "text_completion")),
            ("created", .int(created)), ("model", .string(state.model)), ("choices", .array(choices)),
        ]
        if let usage { members.append(("usage", usage)) }
        return .object(members)
    }

    private func send(_ event: JSONValue) {
        responder.send(Array("data: ".utf8) + JSONWriter.bytes(event, style: .compact) + Array("\n\n".utf8))
    }

    private static func choices(_ output: TaskOutput) -> [GeneratedChoice]? {
        switch output {
        case let .chat(chat): return chat.choices
        case let .completion(completion): return completion.choices
        default: return nil
        }
    }

    private static func usage(_ output: TaskOutput) -> TokenUsage? {
        switch output {
        case let .chat(chat): return chat.usage
        case let .completion(completion): return completion.usage
        default: return nil
        }
    }
}
