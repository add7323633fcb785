import QuernJSON
import QuernLearning

/// A `train` request: `{"task": "train", "data": PATH, "test": PATH?,
/// "name": HEAD, …hyper-parameters…}`. The head is trained on the dataset
/// at `data` (a folder of `<label>/<files>`, or a .jsonl/.csv/.tsv file),
/// evaluated on `test` (or a held-out split) and installed as `name`.
///
/// The paths come from whoever can write to the inbox, so they are never
/// used as given: `InputInspector` replaces them by their real paths
/// (symlinks and `..` resolved) after checking that each lies inside a
/// folder the operator allowed (`--train-data-dir`).
public struct TrainingRequest: Sendable, Equatable {
    public var data: String
    public var test: String?
    /// A safe folder name (`HeadName`).
    public var name: String
    /// The request's hyper-parameters, each checked (`TrainingParameters`),
    /// as an object in the table's order with the values as written.
    public var hyperParameters: JSONValue

    public init(data: String, test: String? = nil, name: String, hyperParameters: JSONValue = .object([])) {
        self.data = data
        self.test = test
        self.name = name
        self.hyperParameters = hyperParameters
    }

    /// The request's fields, checked.
    static func parse(_ fields: Fields) throws(QuernError) -> TrainingRequest {
        let data = try fields.requiredString("data")
        let test = try fields.optionalString("test")
        let name = try fields.requiredString("name")
        if let problem = HeadName.problem(with: name) { throw QuernError(.requestInvalidValue, "field \"name\": \(problem)") }
        for (key, path) in [("data", data), ("test", test ?? "x")] where path.isEmpty || path.contains("\0") {
            throw QuernError(.requestInvalidValue, "field \"\(key)\" must be a path (not empty, no NUL byte)")
        }
        return TrainingRequest(data: data, test: test, name: name, hyperParameters: try TrainingParameters.parse(fields))
    }
}

/// The hyper-parameters a `train` request may carry, one row each: its key
/// and how its value is checked. A key outside this table is an unknown
/// field (named, with a "did you mean" for typos).
public enum TrainingParameters {
    struct Parameter: Sendable {
        let key: String
        /// The value as written when it is valid, nil when absent.
        let read: @Sendable (Fields) throws(QuernError) -> JSONValue?
    }

    static let table: [Parameter] = [
        Parameter(key: "head") { fields throws(QuernError) in
            guard let head = try fields.optionalString("head") else { return nil }
            guard ["logistic", "mlp"].contains(head) else {
                throw QuernError(.requestInvalidValue, "field \"head\": unknown head \"\(head.prefix(80))\" (one of: logistic, mlp)")
            }
            return .string(head)
        },
        Parameter(key: "epochs") { fields throws(QuernError) in try fields.optionalInteger("epochs", range: 1...100_000).map(JSONValue.int) },
        Parameter(key: "learning_rate") { fields throws(QuernError) in
            guard let rate = try fields.optionalNumber("learning_rate", range: 0...100) else { return nil }
            guard rate > 0 else { throw QuernError(.requestInvalidValue, "field \"learning_rate\" must be above 0") }
            return fields["learning_rate"]
        },
        Parameter(key: "batch_size") { fields throws(QuernError) in try fields.optionalInteger("batch_size", range: 1...1_000_000).map(JSONValue.int) },
        Parameter(key: "hidden") { fields throws(QuernError) in try fields.optionalInteger("hidden", range: 1...65_536).map(JSONValue.int) },
        Parameter(key: "seed") { fields throws(QuernError) in try fields.optionalSeed("seed").map(JSONValue.int) },
    ]

    /// Every hyper-parameter key, in table order.
    public static var keys: [String] { table.map(\.key) }

    /// The present hyper-parameters of a request, checked, in table order.
    static func parse(_ fields: Fields) throws(QuernError) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = []
        for parameter in table {
            if let value = try parameter.read(fields) { members.append((parameter.key, value)) }
        }
        let head = members.first { $0.key == "head" }?.value.stringValue ?? "logistic"
        if members.contains(where: { $0.key == "hidden" }), head != "mlp" {
            throw QuernError(.requestInvalidValue, "field \"hidden\" sets the hidden layer of an mlp head; add \"head\": \"mlp\" or leave it out")
        }
        return .object(members)
    }
}
