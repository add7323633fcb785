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
