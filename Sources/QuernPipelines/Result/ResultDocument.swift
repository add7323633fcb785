import Foundation
import QuernJSON

/// Facts about the input file, known before any model runs.
public struct InputFacts: Sendable, Equatable {
    /// The file name's raw bytes (Linux names need not be UTF-8).
    public var name: [UInt8]
    /// nil when the file was not read (not a regular file, over the byte limit).
    public var size: Int?
    public var sha256: String?
    public var kind: InputKind

    public init(name: [UInt8], size: Int?, sha256: String?, kind: InputKind) {
        self.name = name
        self.size = size
        self.sha256 = sha256
        self.kind = kind
    }
}

/// Where the time went, in seconds. Written as milliseconds.
public struct Timings: Sendable, Equatable {
    /// Waiting: from the moment Quern saw the file to the start of its work,
    /// plus any wait for the compute lane.
    public var queued: Double = 0
    /// Reading, hashing, kind detection, request validation and the
    /// pipeline's `prepare` (pixel / audio decoding, tokenizing).
    public var decode: Double = 0
    /// Of `decode`: reading the file and hashing it. Not a member of the
    /// result's `timings` (decode includes it); the daemon reports it as its
    /// own stage to observers (`FinishedJob.readSeconds`).
    public var read: Double = 0
    /// The model (`run`); for a batch, the whole batch's time.
    public var inference: Double = 0
    /// From seeing the file to the result being ready to write.
    public var total: Double = 0

    public init() {}
}

/// One result, as written to `outbox/<name>.json`. Version 1 of the format
/// is described by `schemas/result-v1.schema.json`.
public struct ResultDocument: Sendable {
    public static let schemaVersion = 1

    public var claimID: String?
    public var input: InputFacts
    public var task: TaskName?
    public var outcome: Result<TaskOutput, QuernError>
    public var model: ModelIdentity?
    public var timings: Timings
    public var quernVersion: String
    public var created: Date
    /// What the model had produced when a `timeout` or `cancelled` result
    /// stopped it (the text generated, the segments transcribed); written as
    /// `partial`, only beside those two statuses.
    public var partial: TaskOutput?

    public init(
        claimID: String?, input: InputFacts, task: TaskName?, outcome: Result<TaskOutput, QuernError>,
        model: ModelIdentity?, timings: Timings, quernVersion: String, created: Date = Date(), partial: TaskOutput? = nil
    ) {
        self.partial = partial
        self.claimID = claimID
        self.input = input
        self.task = task
        self.outcome = outcome
        self.model = model
        self.timings = timings
        self.quernVersion = quernVersion
        self.created = created
    }

    public var isSuccess: Bool {
        if case .success = outcome { return true }
        return false
    }

    /// `ok`, `error`, or — for the two ways a job is stopped from outside,
    /// which may carry `partial` output — `timeout` and `cancelled`.
    public var status: String {
        switch outcome {
        case .success: return "ok"
        case let .failure(error):
            switch error.code {
            case .timeout: return "timeout"
            case .cancelled: return "cancelled"
            default: return "error"
            }
        }
    }

    public var errorCode: ErrorCode? {
        if case let .failure(error) = outcome { return error.code }
        return nil
    }

    public var json: JSONValue {
        var inputMembers: [(key: String, value: JSONValue)] = [("name", .string(Self.displayName(input.name)))]
        if String(validating: input.name, as: UTF8.self) == nil {
            inputMembers.append(("name_hex", .string(input.name.map { String(format: "%02x", $0) }.joined())))
        }
        inputMembers.append(("size", input.size.map(JSONValue.int) ?? .null))
        inputMembers.append(("sha256", .optional(input.sha256)))
        inputMembers.append(("kind", .string(input.kind.rawValue)))

        var members: [(key: String, value: JSONValue)] = [
            ("schema_version", .int(Self.schemaVersion)),
            ("quern_version", .string(quernVersion)),
            ("claim_id", .optional(claimID)),
            ("created", .string(Self.timestamp(created))),
            ("input", .object(inputMembers)),
            ("task", .optional(task?.rawValue)),
        ]
        switch outcome {
        case let .success(output):
            members.append(("status", .string("ok")))
            members.append(("error", .null))
            members.append(("model", modelJSON))
            members.append(("result", output.json))
        case let .failure(error):
            members.append(("status", .string(status)))
            members.append(("error", .object([("code", .string(error.code.rawValue)), ("message", .string(error.message))])))
            members.append(("model", modelJSON))
            members.append(("result", .null))
            if let partial, status != "error" { members.append(("partial", partial.json)) }
        }
        members.append(("timings", .object([
            ("queued_ms", .milliseconds(timings.queued)),
            ("decode_ms", .milliseconds(timings.decode)),
            ("inference_ms", .milliseconds(timings.inference)),
            ("total_ms", .milliseconds(timings.total)),
        ])))
        return .object(members)
    }

    private var modelJSON: JSONValue {
        model?.json ?? .null
    }

    /// The name as text: invalid UTF-8 bytes become U+FFFD (the exact bytes
    /// are then in `name_hex`).
    public static func displayName(_ name: [UInt8]) -> String { String(decoding: name, as: UTF8.self) }

    private static func timestamp(_ date: Date) -> String {
        var formatter = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        formatter.timeZone = TimeZone(identifier: "UTC") ?? formatter.timeZone
        return date.formatted(formatter)
    }
}
