import Foundation

/// Where the tests find the repository, the models and the shared fixtures.
/// One place, so a run with the models elsewhere (`QUERN_MODELS`) or the
/// fixtures elsewhere (`QUERN_FIXTURES`) reaches every test target.
public enum TestPaths {
    /// The repository root (this file is Tests/QuernTestSupport/TestPaths.swift).
    public static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// The default models, as scripts/fetch-models.sh installs them.
    public static var models: String { environment("QUERN_MODELS") ?? repository + "/models" }

    /// The PyTorch parity fixtures (../shared/fixtures beside the clone).
    public static var fixtures: String { environment("QUERN_FIXTURES") ?? repository + "/../shared/fixtures" }
    /// The labelled datasets (../shared/datasets beside the clone).
    public static var datasets: String { environment("QUERN_DATASETS") ?? repository + "/../shared/datasets" }

    /// The default chat model's weights.
    public static var smolLM2: String { models + "/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf" }

    /// A path inside the repository, e.g. `inRepository("schemas/result-v1.schema.json")`.
    public static func inRepository(_ relative: String) -> String { repository + "/" + relative }

    private static func environment(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }
}
