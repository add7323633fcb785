import Foundation
import Logging
import QuernLearning
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The heads installed under `<models>/heads/<name>/`, kept in step with
/// the folder while the daemon runs.
///
/// Each head is checked when it is read: its files (`HeadFile`), its
/// folder's name (the head's name), and its feature model — a head trained
/// on other weights than the model loaded for its kind would turn
/// meaningless vectors into confident answers, so it is refused with both
/// checksums named, logged, and never runs.
///
/// `current()` is called once per batch. It lists the folder and stats each
/// head's folder and two files (tens of microseconds): a head installed,
/// replaced or removed — by renaming a complete folder in, the documented
/// way, which always gives new inodes — is seen by the next batch without a
/// restart. Files edited in place are seen by their size and mtime; one
/// whose mtime is under two seconds old is read again at every check until
/// it is older, so a second write within one timestamp tick is not missed.
public final class HeadLibrary: Sendable {
    /// The heads as one batch sees them.
    public struct Snapshot: Sendable {
        /// Accepted heads, by name.
        public let heads: [InstalledHead]
        /// Folders under `heads/` that were refused, by name, and why.
        public let refused: [(name: String, error: LearningError)]

        public static let empty = Snapshot(heads: [], refused: [])

        /// The heads of `kind` a job runs: `names` (nil: every head of the
        /// kind; empty: none), in name order. A name that is not an accepted
        /// head of this kind is an error listing the installed heads.
        public func select(_ names: [String]?, kind: FeatureKind) throws(QuernError) -> [InstalledHead] {
            guard let names else { return heads.filter { $0.kind == kind } }
            var chosen: [InstalledHead] = []
            for name in names {
                if let head = heads.first(where: { $0.name == name }) {
                    guard head.kind == kind else {
                        throw QuernError(.requestInvalidValue, "field \"heads\": head \"\(name)\" reads \(head.kind.rawValue) features; this input is \(kind.rawValue)")
                    }
                    chosen.append(head)
                } else if let refusal = refused.first(where: { $0.name == name }) {
                    throw QuernError(.requestInvalidValue, "field \"heads\": head \"\(name)\" is installed but refused: \(refusal.error.message)")
                } else {
                    let installed = heads.isEmpty ? "none" : heads.map { "\($0.name) (\($0.kind.rawValue))" }.joined(separator: ", ")
                    throw QuernError(.requestInvalidValue, "field \"heads\": no head \"\(name)\" is installed (installed heads: \(installed))")
                }
            }
            return chosen.sorted { $0.name < $1.name }
        }
    }

    /// `<models>/heads`.
    public let directory: String
    /// The model whose vectors each kind's heads read, as loaded.
    public let featureModels: [FeatureKind: ModelIdentity]
    private let logger: Logger
    private let state = Mutex(State())

    private struct State {
        var stamps: [String: EntryStamp] = [:]
        var entries: [String: Entry] = [:]
        var snapshot = Snapshot.empty
        var listingProblem: String?
        var checked = false
    }

    private enum Entry {
        case accepted(InstalledHead)
        case refused(LearningError)
    }

    public init(directory: String, featureModels: [FeatureKind: ModelIdentity], logger: Logger) {
        self.directory = directory
        self.featureModels = featureModels
        self.logger = logger
    }

    /// The heads now, after taking in any change on disk.
    public func current() -> Snapshot {
        state.withLock { state in
            refresh(&state)
            return state.snapshot
        }
    }

    // MARK: Keeping in step

    private func refresh(_ state: inout State) {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { !$0.hasPrefix(".") }.sorted()
            state.listingProblem = nil
        } catch {
            // No heads folder is the usual case: no heads, nothing to say.
            let missing = !FileManager.default.fileExists(atPath: directory)
            let problem = missing ? nil : "cannot list \(directory): \(error.localizedDescription)"
            if let problem, problem != state.listingProblem { logger.warning("heads unavailable", metadata: ["error": "\(problem)"]) }
            state.listingProblem = problem
            names = []
        }
        let now = Self.realtimeNanoseconds()
        var changed = !state.checked
        state.checked = true
        for name in state.entries.keys where !names.contains(name) {
            state.entries[name] = nil
            state.stamps[name] = nil
            changed = true
            logger.info("head removed", metadata: ["head": "\(name)", "folder": "\(directory)/\(name)"])
        }
        for name in names {
            let folder = directory + "/" + name
            let stamp = EntryStamp(folder: folder)
            let unchanged = state.stamps[name] == stamp && state.entries[name] != nil
            if unchanged, !stamp.isRecent(now: now) { continue }
            state.stamps[name] = stamp
            let entry = load(name: name, folder: folder)
            // A recent entry is read again in case a write hid in its mtime's
            // tick; it only counts as a change when what it holds differs.
            if !unchanged || !Self.same(entry, state.entries[name]) {
                changed = true
                report(entry, name: name, folder: folder)
            }
            state.entries[name] = entry
        }
        if changed { state.snapshot = Self.snapshot(state.entries) }
    }

    private func load(name: String, folder: String) -> Entry {
        do throws(LearningError) {
            let file = try HeadFile(folder: folder)
            let manifest = file.manifest
            guard manifest.name == name else {
                throw LearningError(.invalidHead, "\(folder)/\(HeadFile.manifestName) names the head \"\(manifest.name)\"; a head's folder under heads/ must have its name")
            }
            let trained = manifest.featureModel
            guard let loaded = featureModels[trained.kind] else {
                throw LearningError(.featureModelMismatch, "head \(name) reads \(trained.kind.rawValue) features, but no \(trained.kind.rawValue) model is loaded (its task is unavailable)")
            }
            guard loaded.weightsSHA256 == trained.sha256 else {
                throw LearningError(.featureModelMismatch, "head \(name) was trained on the \(trained.kind.rawValue) features of \(trained.name) (sha256 \(trained.sha256)), but the \(trained.kind.rawValue) model loaded is \(loaded.name) (sha256 \(loaded.weightsSHA256 ?? "none")); its answers would be meaningless, so it is not run — train it again on this model's features")
            }
            return .accepted(InstalledHead(file: file, folder: folder))
        } catch {
            return .refused(error)
        }
    }

    private func report(_ entry: Entry, name: String, folder: String) {
        switch entry {
        case let .accepted(head):
            let manifest = head.file.manifest
            logger.info("head loaded", metadata: [
                "head": "\(name)", "kind": "\(manifest.featureModel.kind.rawValue)", "task": "\(manifest.task.rawValue)",
                "architecture": "\(manifest.architecture.kindName)", "classes": "\(manifest.classes.joined(separator: ","))",
                "feature_model": "\(manifest.featureModel.name)", "folder": "\(folder)",
            ])
        case let .refused(error):
            logger.warning("head refused; it does not run", metadata: ["head": "\(name)", "code": "\(error.code)", "error": "\(error.message)"])
        }
    }

    private static func same(_ a: Entry, _ b: Entry?) -> Bool {
        switch (a, b) {
        case let (.accepted(x), .accepted(y)?):
            let (a, b) = (x.file.head, y.file.head)
            return x.file.manifest == y.file.manifest && x.folder == y.folder && a.standardisation == b.standardisation
                && a.parameters.layers.count == b.parameters.layers.count
                && zip(a.parameters.layers, b.parameters.layers).allSatisfy { $0.weight.scalars == $1.weight.scalars && $0.bias.scalars == $1.bias.scalars }
        case let (.refused(x), .refused(y)?): return x == y
        default: return false
        }
    }

    private static func snapshot(_ entries: [String: Entry]) -> Snapshot {
        var heads: [InstalledHead] = []
        var refused: [(name: String, error: LearningError)] = []
        for (name, entry) in entries.sorted(by: { $0.key < $1.key }) {
            switch entry {
            case let .accepted(head): heads.append(head)
            case let .refused(error): refused.append((name, error))
            }
        }
        return Snapshot(heads: heads, refused: refused)
    }

    private static func realtimeNanoseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }
}

/// What a head folder and its two files look like on disk: enough to tell
/// that something changed without reading them.
private struct EntryStamp: Equatable {
    struct File: Equatable {
        var inode: UInt64
        var size: Int
        var modified: Int64
    }

    var folder: File?
    var manifest: File?
    var weights: File?

    init(folder path: String) {
        folder = Self.stamp(path)
        manifest = Self.stamp(path + "/" + HeadFile.manifestName)
        weights = Self.stamp(path + "/" + HeadFile.weightsName)
    }

    /// Changed within the last two seconds: a write in the same timestamp
    /// tick would not show in the mtime, so such an entry is read again.
    func isRecent(now: Int64) -> Bool {
        [folder, manifest, weights].contains { file in file.map { now - $0.modified < 2_000_000_000 } ?? false }
    }

    private static func stamp(_ path: String) -> File? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return File(inode: UInt64(info.st_ino), size: Int(info.st_size),
                    modified: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec))
    }
}
