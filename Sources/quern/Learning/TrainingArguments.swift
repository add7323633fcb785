import ArgumentParser
import Dispatch
import Foundation
import QuernJSON
import QuernPipelines
import Synchronization

/// `quern train`'s hyper-parameter flags: every row of `TrainingParameters`
/// as `--key-with-dashes VALUE` (`--nesterov`, `--truncate` alone mean
/// true), so the command line and a `train` request share one table.
enum TrainingArguments {
    /// The help section listing the table.
    static var help: String {
        let rows = TrainingParameters.table.map { parameter in
            let left = "\(parameter.flag) \(parameter.valueName)"
            return "  " + left.padding(toLength: max(30, left.count + 1), withPad: " ", startingAt: 0) + parameter.help
        }
        return "Hyper-parameters and dataset options (also the fields of a {\"task\": \"train\"} request, with underscores):\n" + rows.joined(separator: "\n")
    }

    /// The table's members from leftover command-line words; anything
    /// else is a usage error naming it.
    static func members(_ words: [String], allowed: Set<String>? = nil) throws -> [(key: String, value: JSONValue)] {
        var members: [(key: String, value: JSONValue)] = []
        var index = 0
        while index < words.count {
            let word = words[index]
            guard word.hasPrefix("--") else { throw ValidationError("unexpected argument \"\(word)\"") }
            var name = String(word.dropFirst(2))
            var inlineValue: String?
            if let equals = name.firstIndex(of: "=") {
                inlineValue = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            let key = name.replacingOccurrences(of: "-", with: "_")
            guard TrainingParameters.keys.contains(key), allowed?.contains(key) ?? true else {
                throw ValidationError("unknown option \"--\(name)\" (see quern \(allowed == nil ? "train" : "evaluate") --help)")
            }
            guard !members.contains(where: { $0.key == key }) else { throw ValidationError("--\(name) is given twice") }
            index += 1
            if let inlineValue {
                members.append((key, TrainingParameters.value(fromArgument: inlineValue)))
            } else if index < words.count, !words[index].hasPrefix("--") {
                members.append((key, TrainingParameters.value(fromArgument: words[index])))
                index += 1
            } else if ["nesterov", "truncate"].contains(key) {
                members.append((key, .bool(true)))
            } else {
                throw ValidationError("--\(name) needs a value")
            }
        }
        return members
    }
}

/// Runs an async body from a synchronous command and waits for it.
func waitFor<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let outcome = Mutex<Result<T, any Error>?>(nil)
    let finished = DispatchSemaphore(value: 0)
    Task.detached {
        let result: Result<T, any Error>
        do { result = .success(try await body()) } catch { result = .failure(error) }
        outcome.withLock { $0 = result }
        finished.signal()
    }
    finished.wait()
    // The task stored a result before signalling.
    guard let result = outcome.withLock({ $0 }) else { throw ExitCode(1) }
    return try result.get()
}

/// A terminal progress line (or log lines when stderr is not a terminal).
func standardErrorProgress(label: String, total: Int, unit: String) -> ProgressReporter {
    ProgressReporter.standardError(label: label, total: total, unit: unit)
}

/// A line on standard error.
func note(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// Where `train` and `evaluate` take features from: the models folder, an
/// explicit feature model, and the feature cache.
struct FeatureSourceOptions: ParsableArguments {
    @Option(name: .customLong("feature-model"), help: ArgumentHelp("The model the features come from (default: the kind's default model in --models).", valueName: "path"))
    var featureModel: String?

    @Option(name: .customLong("cache-dir"), help: ArgumentHelp("The feature cache (default: $QUERN_CACHE_DIR/features or ~/.cache/quern/features).", valueName: "folder"))
    var cacheDirectory: String?

    @OptionGroup var models: ModelsOption
}
