import QuernJSON
import QuernLearning

/// What the installed heads said about one input, in head-name order: the
/// result's `heads` member, `{"<name>": {"label", "scores"} | {"value"} |
/// {"error": {"code", "message"}}}`.
///
/// A head that cannot run on an input (its vector has the wrong width, the
/// output is not finite) does not fail the result: the model's own answer
/// stands and that head's entry carries the error instead.
public struct HeadOutputs: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        case prediction(HeadPrediction)
        /// `code` is a stable `learning.*` code.
        case failure(code: String, message: String)
    }

    public var entries: [(name: String, outcome: Outcome)]

    public init(_ entries: [(name: String, outcome: Outcome)]) { self.entries = entries }

    public static func == (a: HeadOutputs, b: HeadOutputs) -> Bool {
        a.entries.count == b.entries.count && zip(a.entries, b.entries).allSatisfy { $0.name == $1.name && $0.outcome == $1.outcome }
    }

    public subscript(name: String) -> Outcome? { entries.first { $0.name == name }?.outcome }

    public var json: JSONValue {
        .object(entries.map { entry in
            switch entry.outcome {
            case let .prediction(.label(label, scores)):
                return (entry.name, .object([
                    ("label", .string(label)),
                    ("scores", .object(scores.map { ($0.0, JSONValue.float(Float($0.1))) })),
                ]))
            case let .prediction(.value(value)):
                return (entry.name, .object([("value", .float(Float(value)))]))
            case let .failure(code, message):
                return (entry.name, .object([("error", .object([("code", .string(code)), ("message", .string(message))]))]))
            }
        })
    }
}
