import Foundation

/// Validates result files against schemas/result-v1.schema.json with
/// python3's jsonschema (Draft 2020-12), one interpreter for a whole directory.
public enum SchemaValidator {
    public static var schemaPath: String {
        TestPaths.inRepository("schemas/result-v1.schema.json")
    }

    private static let script = """
        import json, sys, os
        try:
            import jsonschema
        except ImportError:
            print("python3 module jsonschema is missing (pip install jsonschema)"); sys.exit(2)
        schema = json.load(open(sys.argv[1]))
        jsonschema.Draft202012Validator.check_schema(schema)
        validator = jsonschema.Draft202012Validator(schema)
        failures = 0
        for path in sys.argv[2:]:
            files = [os.path.join(path, n) for n in os.listdir(path) if n.endswith('.json') and not n.startswith('.')] if os.path.isdir(path) else [path]
            for name in files:
                with open(name, 'rb') as handle:
                    document = json.loads(handle.read())
                for error in validator.iter_errors(document):
                    failures += 1
                    print(repr(name), error.json_path, error.message[:300])
        sys.exit(1 if failures else 0)
        """

    /// Problems found (empty when every file validates).
    public static func problems(in paths: [String]) throws -> String? {
        let (status, text) = try ChildProcess.run("/usr/bin/env", ["python3", "-c", script, schemaPath] + paths)
        return status == 0 ? nil : (text.isEmpty ? "python3 exited \(status)" : text)
    }
}
